/* fuzz_stripe_webhook.c - a Stripe webhook as the endpoint takes it: the Stripe-Signature
 * header (payments/stripe/stripe.c) over the raw body, and the event's shape
 * (api/webhooks/stripe.c) when the body is JSON, then the provider's readers of its data.object
 * (payments/stripe/stripe_provider.c). Input: the header line, then the body. */
#include <jansson.h>

#include "core/errors.h"
#include "fuzz_input.h"
#include "payments/payment_provider.h"
#include "payments/payments.h"
#include "payments/stripe/stripe.h"
#include "payments/stripe/stripe_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *p[2];
  fuzz_split(data, size, p, 2);
  const char *why = NULL;
  size_t len = strlen(p[1]);
  (void)h_stripe_verify_signature(p[0], p[1], len, "whsec_fuzz", 300, 1767225600, &why);
  (void)h_stripe_verify_signature(p[0], p[1], len, "", 300, 1767225600, &why);
  char header[128];
  h_stripe_sign("whsec_fuzz", 1767225600, p[1], len, header, sizeof(header));
  if (h_stripe_verify_signature(header, p[1], len, "whsec_fuzz", 300, 1767225600, &why) != H_OK) {
    abort(); /* our own signature of this body was refused */
  }
  json_error_t err;
  json_t *event = json_loadb(p[1], len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (json_is_object(event)) {
    struct h_field_errors fe = {0};
    h_webhook_stripe_check_shape(event, &fe);
    if (h_field_errors_count(&fe) == 0) {
      /* The readers of the event's object (payment intent, refund, payment method). */
      const json_t *object = json_object_get(json_object_get(event, "data"), "object");
      struct h_config cfg = {0};
      struct h_provider provider;
      (void)h_stripe_provider_init(&provider, &cfg, NULL); /* reading needs no credentials */
      struct h_provider_payment payment = {0};
      struct h_provider_refund refund;
      (void)provider.ops->payment_read(object, &payment);
      (void)provider.ops->refund_read(object, &refund);
      h_provider_payment_clear(&payment);
    }
    h_field_errors_clear(&fe);
  }
  json_decref(event);
  fuzz_free_parts(p, 2);
  return 0;
}

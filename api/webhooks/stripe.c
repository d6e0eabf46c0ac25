/* webhooks_stripe.c - POST /api/v1/webhooks/stripe: the event's shape, then the
 * signature over the raw body, then the event to payment_webhook_service. */
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "payments/payment_http.h"
#include "payments/payment_webhook_service.h"
#include "payments/payments.h"
#include "payments/stripe/stripe.h"
#include "http/request.h"

void h_webhook_stripe_check_shape(const json_t *body, struct h_field_errors *fe) {
  static const char *const names[] = {"id", "type"};
  for (size_t i = 0; i < 2; i++) {
    const char *v = h_field_string(body, names[i], true, 255, fe);
    if (v != NULL && v[0] == '\0') {
      h_field_error(fe, names[i], "too_short", "Must not be empty.");
    }
  }
  const json_t *data = json_object_get(body, "data");
  if (!json_is_object(data)) {
    h_field_error(fe, "data", data == NULL ? "missing_field" : "invalid_type",
                  "Must be an object holding the event's object.");
  } else if (!json_is_object(json_object_get(data, "object"))) {
    h_field_error(fe, "data.object", "invalid_type", "Must be an object.");
  }
  const json_t *created = json_object_get(body, "created");
  if (created != NULL && !json_is_integer(created)) {
    h_field_error(fe, "created", "invalid_type", "Must be a Unix timestamp.");
  }
}

/* Replies 400 unless the Stripe-Signature header matches the raw body. */
static bool signed_by_stripe(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  const char *why = NULL;
  if (h_stripe_verify_signature(h_req_header(rq, "Stripe-Signature"), rq->request->binary_body,
                                rq->request->binary_body_length, cfg->stripe_webhook_secret,
                                cfg->stripe_webhook_tolerance_s, (long)time(NULL),
                                &why) == H_OK) {
    return true;
  }
  h_log(H_LOG_WARNING, "security", rq->request_id, "stripe webhook refused from %s: %s", rq->ip,
        why);
  h_reply_error(rq, H_ERR_INVALID, "invalid_signature",
                "The Stripe-Signature header does not match this body, or its timestamp is too "
                "old or too far in the future.",
                "Stripe-Signature");
  return false;
}

void h_webhook_stripe_post(struct h_req *rq) {
  if (h_payment_body(rq, false) == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_webhook_stripe_check_shape(rq->body, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  const char *secret = rq->app->cfg->stripe_webhook_secret;
  if (secret == NULL || secret[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, "webhooks_not_configured",
                  "Stripe webhooks are not configured (HERALD_STRIPE_WEBHOOK_SECRET).", NULL);
    return;
  }
  if (!signed_by_stripe(rq)) {
    return;
  }
  struct h_error err;
  json_t *receipt = NULL;
  h_result r = h_payment_webhook_apply(rq->app, rq->ip, rq->request_id, rq->body,
                                       rq->request->binary_body,
                                       rq->request->binary_body_length, &receipt, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, receipt, &err);
}

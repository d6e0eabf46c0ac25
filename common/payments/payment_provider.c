/* payment_provider.c - choosing the configured payment provider, and what every
 * provider's answers share. */
#include "payments/payment_provider.h"

#include <string.h>

#include "payments/stripe/stripe_provider.h"

void h_provider_payment_clear(struct h_provider_payment *pay) {
  json_decref(pay->last_payment_error);
  memset(pay, 0, sizeof(*pay));
}

bool h_provider_init(struct h_provider *p, const struct h_config *cfg, const char *request_id) {
  return h_stripe_provider_init(p, cfg, request_id);
}

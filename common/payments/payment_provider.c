/* payment_provider.c - choosing a payment provider by name (the default, or the one a
 * payment records), and what every provider's answers share. */
#include "payments/payment_provider.h"

#include <string.h>

#include "payments/mpesa/mpesa_provider.h"
#include "payments/stripe/stripe_provider.h"

void h_provider_payment_clear(struct h_provider_payment *pay) {
  json_decref(pay->last_payment_error);
  memset(pay, 0, sizeof(*pay));
}

bool h_provider_name_valid(const char *name) {
  return name != NULL && (strcmp(name, "stripe") == 0 || strcmp(name, "mpesa") == 0);
}

bool h_provider_init_named(struct h_provider *p, const struct h_config *cfg, const char *name,
                           const char *request_id) {
  if (name == NULL || name[0] == '\0') {
    name = cfg->payment_default_provider;
  }
  if (strcmp(name, "mpesa") == 0) {
    return h_mpesa_provider_init(p, cfg, request_id);
  }
  bool ok = h_stripe_provider_init(p, cfg, request_id);
  return ok && strcmp(name, "stripe") == 0;
}

bool h_provider_init(struct h_provider *p, const struct h_config *cfg, const char *request_id) {
  return h_provider_init_named(p, cfg, NULL, request_id);
}

bool h_provider_init_methods(struct h_provider *p, const struct h_config *cfg,
                             const char *request_id) {
  static const char *const names[] = {"stripe", "mpesa", NULL};
  for (size_t i = 0; names[i] != NULL; i++) {
    bool ok = h_provider_init_named(p, cfg, names[i], request_id);
    if (p->ops->method_attach != NULL) {
      return ok;
    }
  }
  return false;
}

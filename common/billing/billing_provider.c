/* billing_provider.c - the billing operations of the configured payment provider. */
#include "billing/billing_provider.h"

#include <string.h>

#include "payments/stripe/stripe_billing.h"

const struct h_billing_ops *h_billing_ops_of(const struct h_provider *p) {
  if (p != NULL && p->ops != NULL && strcmp(p->ops->name, "stripe") == 0) {
    return &h_stripe_billing_ops;
  }
  return NULL;
}

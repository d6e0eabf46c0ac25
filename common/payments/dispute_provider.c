/* dispute_provider.c - the dispute operations of the configured payment provider. */
#include "payments/dispute_provider.h"

#include <string.h>

#include "payments/stripe/stripe_disputes.h"

const struct h_dispute_ops *h_dispute_ops_of(const struct h_provider *p) {
  if (p != NULL && p->ops != NULL && strcmp(p->ops->name, "stripe") == 0) {
    return &h_stripe_dispute_ops;
  }
  return NULL;
}

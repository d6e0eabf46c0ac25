/* dispute_provider.h - what Herald asks of a payment provider about disputes
 * (chargebacks): reading a dispute object the provider sent, and submitting evidence.
 * A table of operations beside the payment provider's (payment_provider.h); the
 * Stripe one is payments/stripe/stripe_disputes.h. */
#ifndef HERALD_DISPUTE_PROVIDER_H
#define HERALD_DISPUTE_PROVIDER_H

#include <jansson.h>

#include "payments/payment_provider.h"

/* The parts of a provider dispute Herald keeps. */
struct h_provider_dispute {
  char id[H_PROVIDER_ID_LEN];
  char payment[H_PROVIDER_ID_LEN]; /* the disputed provider payment's id */
  char status[32];                 /* needs_response, under_review, won, lost, warning_... */
  char reason[64];                 /* fraudulent, product_not_received, ... */
  char currency[4];                /* upper case */
  long long amount;
  long long evidence_due_by;       /* unix seconds, 0 when none */
};

struct h_dispute_ops {
  /* Reads a dispute object (borrowed); H_ERR_INVALID when obj is not one. */
  h_result (*dispute_read)(const json_t *obj, struct h_provider_dispute *out);
  /* Submits text as the dispute's evidence (the provider then reviews it); out
   * receives the dispute as the provider answered. err may be NULL. */
  h_result (*evidence_submit)(const struct h_provider *p, const char *id, const char *text,
                              const char *idem_key, struct h_provider_dispute *out,
                              struct h_provider_error *err);
};

/* The dispute operations of p's provider; NULL when it has none. Static. */
const struct h_dispute_ops *h_dispute_ops_of(const struct h_provider *p);

#endif

/* stripe_disputes.h - the dispute interface (payments/dispute_provider.h) over
 * Stripe's Disputes API. */
#ifndef HERALD_STRIPE_DISPUTES_H
#define HERALD_STRIPE_DISPUTES_H

#include "payments/dispute_provider.h"

extern const struct h_dispute_ops h_stripe_dispute_ops;

#endif

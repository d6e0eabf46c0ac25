/* stripe_provider.h - the payment provider interface (payments/payment_provider.h)
 * implemented over Stripe's API (payments/stripe/stripe.h): PaymentIntents, refunds,
 * customers, payment methods and their lists. */
#ifndef HERALD_STRIPE_PROVIDER_H
#define HERALD_STRIPE_PROVIDER_H

#include <stdbool.h>

#include "core/config.h"
#include "payments/payment_provider.h"

/* Fills p with Stripe (state: cfg, borrowed); false when no secret key or API base is
 * configured. */
bool h_stripe_provider_init(struct h_provider *p, const struct h_config *cfg,
                            const char *request_id);

#endif

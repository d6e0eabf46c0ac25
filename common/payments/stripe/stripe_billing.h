/* stripe_billing.h - the billing interface (billing/billing_provider.h) over Stripe
 * Billing: products, prices, subscriptions and invoices. */
#ifndef HERALD_STRIPE_BILLING_H
#define HERALD_STRIPE_BILLING_H

#include "billing/billing_provider.h"

extern const struct h_billing_ops h_stripe_billing_ops;

#endif

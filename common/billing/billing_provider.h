/* billing_provider.h - what Herald asks of a payment provider for subscriptions: plans
 * as products and recurring prices, subscriptions (create, update, cancel, fetch), and
 * reading the subscription and invoice objects its webhooks carry. A table of
 * operations beside the payment provider's (payments/payment_provider.h), whose
 * struct h_provider (configuration, request id) it takes; the Stripe one is
 * payments/stripe/stripe_billing.h. */
#ifndef HERALD_BILLING_PROVIDER_H
#define HERALD_BILLING_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>

#include "payments/payment_provider.h"

/* A plan as the provider is asked to bill it; strings borrowed. */
struct h_billing_plan_params {
  const char *plan_id; /* ours, kept in the provider's metadata */
  const char *name;
  const char *currency;
  const char *interval; /* day, week, month, year */
  long long amount;
  int interval_count;
};

/* The parts of a provider subscription Herald keeps. */
struct h_provider_subscription {
  char id[H_PROVIDER_ID_LEN];
  char customer[H_PROVIDER_ID_LEN];
  char status[32];
  char item[H_PROVIDER_ID_LEN];  /* the one subscription item's id */
  char price[H_PROVIDER_ID_LEN]; /* its price */
  char herald_subscription_id[40];
  bool cancel_at_period_end;
  long long current_period_start, current_period_end, trial_end, canceled_at; /* unix s, 0 */
};

struct h_provider_invoice {
  char id[H_PROVIDER_ID_LEN];
  char subscription[H_PROVIDER_ID_LEN];
  char status[32];
  char currency[4]; /* upper case */
  long long amount_due, amount_paid;
  int attempt_count;
};

/* A subscription change: what is NULL (or < 0) stays. */
struct h_billing_change {
  int cancel_at_period_end; /* 1, 0, or -1 to leave it */
  const char *item;         /* with price: the item whose price changes */
  const char *price;
};

struct h_billing_ops {
  /* Creates the plan's product and recurring price into product and price. */
  h_result (*plan_create)(const struct h_provider *p, const struct h_billing_plan_params *in,
                          const char *idem_key, char product[H_PROVIDER_ID_LEN],
                          char price[H_PROVIDER_ID_LEN], struct h_provider_error *err);
  /* Renames the product (name NULL: keep) and (de)activates it. */
  h_result (*plan_update)(const struct h_provider *p, const char *product, const char *name,
                          bool active, const char *idem_key, struct h_provider_error *err);
  /* Subscribes customer to price (trial_days 0: none), paying with method ("" or NULL: the
   * customer's default); herald_id goes into the metadata. */
  h_result (*subscription_create)(const struct h_provider *p, const char *customer,
                                  const char *price, int trial_days, const char *method,
                                  const char *herald_id, const char *idem_key,
                                  struct h_provider_subscription *out,
                                  struct h_provider_error *err);
  h_result (*subscription_update)(const struct h_provider *p, const char *id,
                                  const struct h_billing_change *change, const char *idem_key,
                                  struct h_provider_subscription *out,
                                  struct h_provider_error *err);
  /* Cancels at once. */
  h_result (*subscription_cancel)(const struct h_provider *p, const char *id,
                                  const char *idem_key, struct h_provider_subscription *out,
                                  struct h_provider_error *err);
  h_result (*subscription_fetch)(const struct h_provider *p, const char *id,
                                 struct h_provider_subscription *out,
                                 struct h_provider_error *err);
  /* Read objects a webhook carried (borrowed); H_ERR_INVALID when obj is not one. */
  h_result (*subscription_read)(const json_t *obj, struct h_provider_subscription *out);
  h_result (*invoice_read)(const json_t *obj, struct h_provider_invoice *out);
};

/* The billing operations of p's provider; NULL when it has none. Static. */
const struct h_billing_ops *h_billing_ops_of(const struct h_provider *p);

#endif

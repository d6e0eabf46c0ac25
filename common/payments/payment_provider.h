/* payment_provider.h - Herald's calls to Stripe, in Herald's terms.
 *
 * Wraps common/payments/stripe/stripe.h: builds the form parameters, derives nothing itself (the
 * caller passes the Idempotency-Key it derived from its own object id) and reads
 * the answers into small fixed-size structs. On a failed call err (if not NULL)
 * receives Stripe's error; on a card decline (H_ERR_PAYMENT) the declined intent,
 * when Stripe sent it, is read into the pi out-parameter too (pi->id non-empty). */
#ifndef HERALD_PAYMENT_PROVIDER_H
#define HERALD_PAYMENT_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/result.h"
#include "payments/stripe/stripe.h"

#define H_PROVIDER_ID_LEN 256

/* The parts of a PaymentIntent Herald keeps. */
struct h_pi {
  char id[H_PROVIDER_ID_LEN];
  char status[32];
  char client_secret[H_PROVIDER_ID_LEN];
  char customer[H_PROVIDER_ID_LEN];
  char payment_method[H_PROVIDER_ID_LEN];
  char herald_payment_id[40]; /* metadata[herald_payment_id] */
  char cancellation_reason[40];
  long long amount;
  json_t *last_payment_error; /* {"code","decline_code","message"} or NULL; owned */
};

/* Frees what pi holds and empties it. */
void h_pi_clear(struct h_pi *pi);
/* Reads a PaymentIntent object (borrowed); H_ERR_INVALID when obj is not one. */
h_result h_pi_from_json(const json_t *obj, struct h_pi *out);

struct h_refund_obj {
  char id[H_PROVIDER_ID_LEN];
  char status[32];
  char payment_intent[H_PROVIDER_ID_LEN];
  char herald_refund_id[40]; /* metadata[herald_refund_id] */
  char reason[40];
  char failure_reason[64];
  char currency[4]; /* upper case */
  long long amount;
};
h_result h_refund_from_json(const json_t *obj, struct h_refund_obj *out);

struct h_pm_obj {
  char id[H_PROVIDER_ID_LEN];
  char type[32];
  char brand[32];
  char last4[8];
  char customer[H_PROVIDER_ID_LEN];
  int exp_month, exp_year;
};
h_result h_pm_from_json(const json_t *obj, struct h_pm_obj *out);

struct h_provider {
  struct h_stripe_config cfg; /* points into the configuration (borrowed) */
};

/* Fills p from the configuration; false when no secret key is configured. */
bool h_provider_init(struct h_provider *p, const struct h_config *cfg, const char *request_id);

/* What a new PaymentIntent is made of; every pointer borrowed, NULL when absent. */
struct h_pi_params {
  const char *payment_id;
  const char *user_id;
  const char *payment_type;
  const char *currency;
  const char *description;
  const char *customer;
  const char *payment_method;
  const json_t *metadata;
  long long amount;
  bool confirm;
};

h_result h_provider_pi_create(const struct h_provider *p, const struct h_pi_params *in,
                              const char *idempotency_key, struct h_pi *pi,
                              struct h_stripe_error *err);
h_result h_provider_pi_confirm(const struct h_provider *p, const char *pi_id,
                               const char *payment_method, const char *idempotency_key,
                               struct h_pi *pi, struct h_stripe_error *err);
h_result h_provider_pi_cancel(const struct h_provider *p, const char *pi_id, const char *reason,
                              const char *idempotency_key, struct h_pi *pi,
                              struct h_stripe_error *err);
h_result h_provider_pi_fetch(const struct h_provider *p, const char *pi_id, struct h_pi *pi,
                             struct h_stripe_error *err);

h_result h_provider_refund_create(const struct h_provider *p, const char *pi_id,
                                  long long amount, const char *reason, const char *refund_id,
                                  const char *idempotency_key, struct h_refund_obj *out,
                                  struct h_stripe_error *err);
h_result h_provider_refund_fetch(const struct h_provider *p, const char *refund_id,
                                 struct h_refund_obj *out, struct h_stripe_error *err);

h_result h_provider_customer_create(const struct h_provider *p, const char *user_id,
                                    const char *email, const char *idempotency_key,
                                    char id[H_PROVIDER_ID_LEN], struct h_stripe_error *err);
h_result h_provider_customer_default(const struct h_provider *p, const char *customer,
                                     const char *payment_method, const char *idempotency_key,
                                     struct h_stripe_error *err);
h_result h_provider_pm_attach(const struct h_provider *p, const char *payment_method,
                              const char *customer, const char *idempotency_key,
                              struct h_pm_obj *out, struct h_stripe_error *err);
h_result h_provider_pm_detach(const struct h_provider *p, const char *payment_method,
                              const char *idempotency_key, struct h_stripe_error *err);

#endif

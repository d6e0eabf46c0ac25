/* payment_provider.h - the payment provider interface: what Herald asks of a provider
 * (payments, refunds, customers, payment methods, the lists reconciliation reads), in
 * Herald's terms.
 *
 * A provider is a table of operations and an opaque state; h_provider_init picks the
 * default one the configuration names and h_provider_init_named the one a payment
 * records (Stripe: payments/stripe/stripe_provider.h, M-Pesa:
 * payments/mpesa/mpesa_provider.h), so services, sync, the webhook and callback services
 * and reconciliation never name a provider. Operations a provider does not offer are
 * NULL (M-Pesa has no customers, saved methods or lists). The caller passes the
 * Idempotency-Key it derived from its own object id; answers are read into small
 * fixed-size structs. On a failed call err (if not NULL) receives the provider's error;
 * on a card decline (H_ERR_PAYMENT) the declined payment, when the provider sent it, is
 * read into the payment out-parameter too (its id non-empty). */
#ifndef HERALD_PAYMENT_PROVIDER_H
#define HERALD_PAYMENT_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "core/config.h"
#include "core/result.h"

#define H_PROVIDER_ID_LEN 256

/* A provider's error, as it described it ("" for what it left out). */
struct h_provider_error {
  char type[48];         /* card_error, invalid_request_error, idempotency_error, ... */
  char code[64];         /* card_declined, resource_missing, ... */
  char decline_code[64]; /* insufficient_funds, ... */
  char param[64];
  char message[256];
};

/* The parts of a provider payment (a Stripe PaymentIntent) Herald keeps. */
struct h_provider_payment {
  char id[H_PROVIDER_ID_LEN];
  char status[32];
  char client_secret[H_PROVIDER_ID_LEN];
  char customer[H_PROVIDER_ID_LEN];
  char payment_method[H_PROVIDER_ID_LEN];
  char herald_payment_id[40]; /* our id, from the payment's metadata */
  char cancellation_reason[40];
  char reference[64];         /* the provider's transaction reference (M-Pesa receipt), or "" */
  long long amount;
  json_t *last_payment_error; /* {"code","decline_code","message"} or NULL; owned */
};

/* Frees what pay holds and empties it. */
void h_provider_payment_clear(struct h_provider_payment *pay);

struct h_provider_refund {
  char id[H_PROVIDER_ID_LEN];
  char status[32];
  char payment[H_PROVIDER_ID_LEN]; /* the provider payment's id */
  char herald_refund_id[40];       /* our id, from the refund's metadata */
  char reason[40];
  char failure_reason[64];
  char currency[4]; /* upper case */
  long long amount;
};

struct h_provider_method {
  char id[H_PROVIDER_ID_LEN];
  char type[32];
  char brand[32];
  char last4[8];
  char customer[H_PROVIDER_ID_LEN];
  int exp_month, exp_year;
};

/* What a new payment is made of; every pointer borrowed, NULL when absent. */
struct h_provider_payment_params {
  const char *payment_id;
  const char *user_id;
  const char *payment_type;
  const char *currency;
  const char *description;
  const char *customer;
  const char *payment_method; /* M-Pesa: the payer's number, 2547XXXXXXXX */
  const json_t *metadata;
  long long amount;
  bool confirm;
};

struct h_provider;

/* The operations of a provider. Strings are borrowed; err may be NULL. */
struct h_provider_ops {
  const char *name;       /* "stripe", "mpesa" */
  const char *currencies; /* the currencies it takes: "*" (HERALD_PAYMENT_CURRENCIES) or a list */
  /* A create sent again with the same Idempotency-Key replays the first (Stripe); where it
   * does not (an M-Pesa STK push would ring the phone again), a create whose answer was lost
   * is never sent again: sync leaves the payment for review. */
  bool create_replayable;
  h_result (*payment_create)(const struct h_provider *p,
                             const struct h_provider_payment_params *in, const char *idem_key,
                             struct h_provider_payment *out, struct h_provider_error *err);
  h_result (*payment_confirm)(const struct h_provider *p, const char *id, const char *method,
                              const char *idem_key, struct h_provider_payment *out,
                              struct h_provider_error *err);
  h_result (*payment_cancel)(const struct h_provider *p, const char *id, const char *reason,
                             const char *idem_key, struct h_provider_payment *out,
                             struct h_provider_error *err);
  h_result (*payment_fetch)(const struct h_provider *p, const char *id,
                            struct h_provider_payment *out, struct h_provider_error *err);
  /* payment: the provider payment's reference when it gave one, else its id. */
  h_result (*refund_create)(const struct h_provider *p, const char *payment, long long amount,
                            const char *reason, const char *refund_id, const char *idem_key,
                            struct h_provider_refund *out, struct h_provider_error *err);
  h_result (*refund_fetch)(const struct h_provider *p, const char *id,
                           struct h_provider_refund *out, struct h_provider_error *err);
  /* Writes the new customer's id into id. */
  h_result (*customer_create)(const struct h_provider *p, const char *user_id,
                              const char *email, const char *idem_key,
                              char id[H_PROVIDER_ID_LEN], struct h_provider_error *err);
  /* Makes method (NULL: none) the customer's default. */
  h_result (*customer_set_default)(const struct h_provider *p, const char *customer,
                                   const char *method, const char *idem_key,
                                   struct h_provider_error *err);
  h_result (*method_attach)(const struct h_provider *p, const char *method,
                            const char *customer, const char *idem_key,
                            struct h_provider_method *out, struct h_provider_error *err);
  h_result (*method_detach)(const struct h_provider *p, const char *method,
                            const char *idem_key, struct h_provider_error *err);
  /* Reads a payment or refund object the provider sent (a webhook event's; borrowed);
   * H_ERR_INVALID when obj is not one. */
  h_result (*payment_read)(const json_t *obj, struct h_provider_payment *out);
  h_result (*refund_read)(const json_t *obj, struct h_provider_refund *out);
  /* Reads an unsigned callback the provider POSTed (borrowed) into the payment (or, for
   * a refund's result, the refund) it claims; its claims are checked by a fetch before
   * anything moves. H_ERR_INVALID when body is not one; H_ERR_NOT_FOUND for the other
   * kind. */
  h_result (*callback_payment_read)(const json_t *body, struct h_provider_payment *out);
  h_result (*callback_refund_read)(const json_t *body, struct h_provider_refund *out);
  /* Every payment (refund) created in [since, until) into into, keyed by id:
   * {"id","amount","currency" (upper case),"status","created" (unix seconds)}. */
  h_result (*payment_list)(const struct h_provider *p, time_t since, time_t until,
                           json_t *into);
  h_result (*refund_list)(const struct h_provider *p, time_t since, time_t until,
                          json_t *into);
};

struct h_provider {
  const struct h_provider_ops *ops;
  const void *state;      /* the implementation's; borrowed (Stripe: the configuration) */
  const char *request_id; /* ours, for log lines; borrowed, may be NULL */
};

/* Fills p with the default provider (HERALD_PAYMENT_DEFAULT_PROVIDER); false when it lacks
 * credentials (p is filled even then: payment_read and refund_read need none). */
bool h_provider_init(struct h_provider *p, const struct h_config *cfg, const char *request_id);

/* Fills p with the provider called name ("stripe", "mpesa"; NULL or "": the default); false
 * when it lacks credentials or name is unknown (then p is the default, unconfigured). */
bool h_provider_init_named(struct h_provider *p, const struct h_config *cfg, const char *name,
                           const char *request_id);

/* Fills p with the provider that keeps customers and saved payment methods (the one whose
 * method operations are not NULL); false when it lacks credentials. */
bool h_provider_init_methods(struct h_provider *p, const struct h_config *cfg,
                             const char *request_id);

/* True when name is a provider Herald knows. Pure. */
bool h_provider_name_valid(const char *name);

#endif

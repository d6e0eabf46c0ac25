/* payment_repo.h - SQL for payments and the users' provider customers.
 *
 * struct h_payment carries the columns the rules need; responses are built from
 * the JSON view (h_payment_repo_get_json), which includes the fees object. Every
 * json_t ** out-parameter is a new reference for the caller. */
#ifndef HERALD_PAYMENT_REPO_H
#define HERALD_PAYMENT_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "payments/payment_provider.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_payment {
  char id[37];
  char user_id[37];
  char status[32];
  char currency[4];
  char payment_type[32];
  char provider[16];                      /* "stripe", "mpesa" */
  char pi_id[H_PROVIDER_ID_LEN];          /* "" until the provider made the intent */
  char reference[64];                     /* the provider's transaction reference, or "" */
  char customer[H_PROVIDER_ID_LEN];
  char payment_method[H_PROVIDER_ID_LEN]; /* "" when none chosen yet */
  char request_hash[65];
  char description[1001];
  long long amount;
  long long amount_refunded;
  int confirm_attempts;
  bool needs_reconciliation;
};

/* A new payment; pointers borrowed, NULL when absent. */
struct h_payment_new {
  const char *user_id;
  const char *idempotency_key;
  const char *request_hash;
  const char *payment_type;
  const char *currency;
  const char *description;
  const json_t *metadata;
  const char *customer;
  const char *payment_method;
  const char *provider; /* NULL: "stripe" */
  long long amount;
  long long fee_provider;
  long long fee_platform;
};

/* Inserts the payment, or (same user and idempotency key) locks the existing one;
 * *created tells which. */
h_result h_payment_repo_insert(PGconn *conn, const struct h_payment_new *in,
                               struct h_payment *out, bool *created);

/* Locks a payment FOR UPDATE; owner NULL matches any user. H_ERR_NOT_FOUND if none. */
h_result h_payment_repo_lock(PGconn *conn, const char *id, const char *owner,
                             struct h_payment *out);

/* Locks the payment of a provider intent id, or else of herald_payment_id (either
 * may be NULL or ""). */
h_result h_payment_repo_lock_by_intent(PGconn *conn, const char *pi_id,
                                       const char *herald_payment_id, struct h_payment *out);

/* Records that a provider call is about to be made: its outcome is unknown until
 * h_payment_repo_apply clears the mark. confirm_attempts is stored as given. */
h_result h_payment_repo_mark_in_doubt(PGconn *conn, const char *id, int confirm_attempts,
                                      const char *payment_method);

/* What a provider answer changes; NULL pointers leave a column as it is. */
struct h_payment_update {
  const char *status;
  const char *pi_id;
  const char *client_secret;
  const char *customer;
  const char *payment_method;
  const char *cancellation_reason;
  const char *reference;            /* the provider's transaction reference */
  const json_t *last_payment_error; /* written when set_error */
  bool set_error;
  bool in_doubt;                    /* the value of needs_reconciliation */
};
h_result h_payment_repo_apply(PGconn *conn, const char *id, const struct h_payment_update *u);

/* The API view of a payment; owner NULL matches any user. */
h_result h_payment_repo_get_json(PGconn *conn, const char *id, const char *owner, json_t **out);

struct h_payment_filter {
  const char *owner;        /* NULL: every user's */
  const char *status;
  const char *payment_type;
  const char *created_gte;  /* RFC 3339 */
  const char *created_lte;
};
h_result h_payment_repo_list(PGconn *conn, const struct h_payment_filter *f,
                             const struct h_page *page, json_t **data, bool *has_more);

/* Sets amount_refunded to the refunds that count (pending and succeeded). */
h_result h_payment_repo_recount_refunds(PGconn *conn, const char *id);

/* The user's provider customer id into out; H_ERR_NOT_FOUND when none yet. With
 * lock, the row is locked FOR UPDATE (serialises a user's payment method changes). */
h_result h_customer_repo_get(PGconn *conn, const char *user_id, bool lock,
                             char out[H_PROVIDER_ID_LEN]);
/* Stores the customer unless one is stored already; out receives the stored one. */
h_result h_customer_repo_insert(PGconn *conn, const char *user_id, const char *customer,
                                char out[H_PROVIDER_ID_LEN]);
/* The e-mail of an active user into out (for the provider customer). */
h_result h_customer_repo_email(PGconn *conn, const char *user_id, char out[256]);

#endif

/* payment_repo.c - SQL for payments and payment_customers. */
#include "payments/payment_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"

#define PAYMENT_FIELDS                                                                      \
  "id, user_id, status, currency, payment_type, COALESCE(provider_payment_intent_id, ''),"  \
  " COALESCE(provider_customer_id, ''), COALESCE(payment_method, ''),"                     \
  " COALESCE(request_hash, ''), COALESCE(description, ''), amount, amount_refunded,"        \
  " confirm_attempts, needs_reconciliation, provider, COALESCE(provider_reference, '')"

#define PAYMENT_JSON                                                                        \
  "p.id, 'payment' AS object, p.user_id, p.status, p.amount, p.currency, p.payment_type,"   \
  " p.description, p.metadata, p.client_secret, jsonb_build_object('provider',"             \
  " p.fee_provider, 'platform', p.fee_platform, 'net', p.amount - p.fee_provider -"         \
  " p.fee_platform) AS fees, p.amount_refunded, CASE WHEN p.status = 'succeeded'"           \
  " THEN p.amount - p.amount_refunded ELSE 0 END AS amount_refundable, p.payment_method,"   \
  " p.last_payment_error, p.cancellation_reason, p.provider,"                               \
  " p.provider_payment_intent_id, p.provider_reference,"                                    \
  " p.needs_reconciliation AS reconciliation_pending, "                                     \
  H_SQL_TS("p.created_at") " AS created_at, " H_SQL_TS("p.updated_at") " AS updated_at, "  \
  H_SQL_TS("p.succeeded_at") " AS succeeded_at, " H_SQL_TS("p.canceled_at") " AS canceled_at, "  \
  H_SQL_TS("p.failed_at") " AS failed_at"

/* Copies row 0 of res (PAYMENT_FIELDS order) into out. */
static void payment_from_row(const PGresult *res, struct h_payment *out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(out->user_id, sizeof(out->user_id), "%s", PQgetvalue(res, 0, 1));
  snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 2));
  snprintf(out->currency, sizeof(out->currency), "%s", PQgetvalue(res, 0, 3));
  snprintf(out->payment_type, sizeof(out->payment_type), "%s", PQgetvalue(res, 0, 4));
  snprintf(out->pi_id, sizeof(out->pi_id), "%s", PQgetvalue(res, 0, 5));
  snprintf(out->customer, sizeof(out->customer), "%s", PQgetvalue(res, 0, 6));
  snprintf(out->payment_method, sizeof(out->payment_method), "%s", PQgetvalue(res, 0, 7));
  snprintf(out->request_hash, sizeof(out->request_hash), "%s", PQgetvalue(res, 0, 8));
  snprintf(out->description, sizeof(out->description), "%s", PQgetvalue(res, 0, 9));
  out->amount = atoll(PQgetvalue(res, 0, 10));
  out->amount_refunded = atoll(PQgetvalue(res, 0, 11));
  out->confirm_attempts = atoi(PQgetvalue(res, 0, 12));
  out->needs_reconciliation = PQgetvalue(res, 0, 13)[0] == 't';
  snprintf(out->provider, sizeof(out->provider), "%s", PQgetvalue(res, 0, 14));
  snprintf(out->reference, sizeof(out->reference), "%s", PQgetvalue(res, 0, 15));
}

/* Runs a statement returning at most one PAYMENT_FIELDS row. */
static h_result one_payment(PGconn *conn, const char *sql, int n, const char *const *params,
                            struct h_payment *out) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 0) {
    r = H_ERR_NOT_FOUND;
  } else {
    payment_from_row(res, out);
  }
  PQclear(res);
  return r;
}

h_result h_payment_repo_insert(PGconn *conn, const struct h_payment_new *in,
                               struct h_payment *out, bool *created) {
  char amount[24], fee_provider[24], fee_platform[24];
  snprintf(amount, sizeof(amount), "%lld", in->amount);
  snprintf(fee_provider, sizeof(fee_provider), "%lld", in->fee_provider);
  snprintf(fee_platform, sizeof(fee_platform), "%lld", in->fee_platform);
  char *metadata = in->metadata != NULL ? json_dumps(in->metadata, JSON_COMPACT) : NULL;
  const char *params[] = {in->user_id, in->idempotency_key, in->request_hash, in->payment_type,
                          amount, in->currency, in->description, metadata != NULL ? metadata : "{}",
                          in->customer, in->payment_method, fee_provider, fee_platform,
                          in->provider != NULL ? in->provider : "stripe"};
  h_result r = one_payment(
      conn,
      "INSERT INTO payments (user_id, idempotency_key, request_hash, payment_type, amount,"
      " currency, description, metadata, status, provider_customer_id, payment_method,"
      " fee_provider, fee_platform, provider) VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6,"
      " $7, $8::jsonb, 'requires_payment_method', $9, $10, $11::bigint, $12::bigint, $13)"
      " ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
      " RETURNING " PAYMENT_FIELDS,
      13, params, out);
  free(metadata);
  *created = r == H_OK;
  if (r == H_ERR_NOT_FOUND && in->idempotency_key != NULL) {
    const char *p2[] = {in->user_id, in->idempotency_key};
    r = one_payment(conn,
                    "SELECT " PAYMENT_FIELDS " FROM payments WHERE user_id = $1::uuid"
                    " AND idempotency_key = $2 FOR UPDATE",
                    2, p2, out);
  }
  return r;
}

h_result h_payment_repo_lock(PGconn *conn, const char *id, const char *owner,
                             struct h_payment *out) {
  const char *params[] = {id, owner};
  return one_payment(conn,
                     "SELECT " PAYMENT_FIELDS " FROM payments WHERE id = $1::uuid"
                     " AND ($2::uuid IS NULL OR user_id = $2::uuid) FOR UPDATE",
                     2, params, out);
}

h_result h_payment_repo_lock_by_intent(PGconn *conn, const char *pi_id,
                                       const char *herald_payment_id, struct h_payment *out) {
  const char *pid = herald_payment_id != NULL && h_uuid_valid(herald_payment_id)
                        ? herald_payment_id
                        : NULL;
  const char *params[] = {pi_id != NULL && pi_id[0] != '\0' ? pi_id : NULL, pid};
  return one_payment(conn,
                     "SELECT " PAYMENT_FIELDS " FROM payments"
                     " WHERE provider_payment_intent_id = $1"
                     "    OR ($2::uuid IS NOT NULL AND id = $2::uuid"
                     "        AND (provider_payment_intent_id IS NULL"
                     "             OR provider_payment_intent_id = $1))"
                     " ORDER BY (provider_payment_intent_id = $1) DESC NULLS LAST LIMIT 1"
                     " FOR UPDATE",
                     2, params, out);
}

h_result h_payment_repo_mark_in_doubt(PGconn *conn, const char *id, int confirm_attempts,
                                      const char *payment_method) {
  char attempts[16];
  snprintf(attempts, sizeof(attempts), "%d", confirm_attempts);
  const char *params[] = {id, attempts, payment_method};
  return h_db_exec(conn,
                   "UPDATE payments SET needs_reconciliation = true, confirm_attempts = $2::int,"
                   " payment_method = COALESCE($3, payment_method), updated_at = now()"
                   " WHERE id = $1::uuid",
                   3, params, NULL);
}

h_result h_payment_repo_apply(PGconn *conn, const char *id, const struct h_payment_update *u) {
  char *error = u->set_error && u->last_payment_error != NULL
                    ? json_dumps(u->last_payment_error, JSON_COMPACT)
                    : NULL;
  const char *params[] = {id,          u->status,       u->pi_id,
                          u->client_secret, u->customer, u->payment_method,
                          u->cancellation_reason, u->set_error ? "t" : "f", error,
                          u->in_doubt ? "t" : "f", u->reference};
  h_result r = h_db_exec(
      conn,
      "UPDATE payments SET status = COALESCE($2, status),"
      " provider_payment_intent_id = COALESCE(provider_payment_intent_id, NULLIF($3, '')),"
      " client_secret = COALESCE(NULLIF($4, ''), client_secret),"
      " provider_customer_id = COALESCE(NULLIF($5, ''), provider_customer_id),"
      " payment_method = COALESCE(NULLIF($6, ''), payment_method),"
      " cancellation_reason = COALESCE(NULLIF($7, ''), cancellation_reason),"
      " last_payment_error = CASE WHEN $8::bool THEN $9::jsonb ELSE last_payment_error END,"
      " needs_reconciliation = $10::bool,"
      " provider_reference = COALESCE(NULLIF($11, ''), provider_reference),"
      " succeeded_at = CASE WHEN $2 = 'succeeded' THEN COALESCE(succeeded_at, now())"
      "   ELSE succeeded_at END,"
      " canceled_at = CASE WHEN $2 = 'canceled' THEN COALESCE(canceled_at, now())"
      "   ELSE canceled_at END,"
      " failed_at = CASE WHEN $2 = 'failed' THEN COALESCE(failed_at, now()) ELSE failed_at END,"
      " updated_at = now() WHERE id = $1::uuid",
      11, params, NULL);
  free(error);
  return r;
}

h_result h_payment_repo_get_json(PGconn *conn, const char *id, const char *owner, json_t **out) {
  const char *params[] = {id, owner};
  PGresult *res = NULL;
  *out = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " PAYMENT_JSON " FROM payments p WHERE p.id = $1::uuid"
                         " AND ($2::uuid IS NULL OR p.user_id = $2::uuid)",
                         2, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 0) {
    r = H_ERR_NOT_FOUND;
  } else {
    *out = h_db_row_json(res, 0);
  }
  PQclear(res);
  return r;
}

h_result h_payment_repo_list(PGconn *conn, const struct h_payment_filter *f,
                             const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {f->owner,       f->status,           f->payment_type,
                          f->created_gte, f->created_lte,      page->starting_after,
                          limit};
  return h_db_page(
      conn,
      "SELECT " PAYMENT_JSON " FROM payments p"
      " WHERE ($1::uuid IS NULL OR p.user_id = $1::uuid)"
      "   AND ($2::text IS NULL OR p.status = $2) AND ($3::text IS NULL OR p.payment_type = $3)"
      "   AND ($4::timestamptz IS NULL OR p.created_at >= $4::timestamptz)"
      "   AND ($5::timestamptz IS NULL OR p.created_at <= $5::timestamptz)"
      "   AND ($6::uuid IS NULL OR (p.created_at, p.id) < (SELECT created_at, id FROM payments"
      "        WHERE id = $6::uuid AND ($1::uuid IS NULL OR user_id = $1::uuid)))"
      " ORDER BY p.created_at DESC, p.id DESC LIMIT $7::int",
      7, params, page->limit, data, has_more);
}

h_result h_payment_repo_recount_refunds(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn,
                   "UPDATE payments SET amount_refunded = (SELECT COALESCE(sum(amount), 0)"
                   "   FROM refunds WHERE payment_id = $1::uuid"
                   "   AND status IN ('pending', 'requires_action', 'succeeded')),"
                   " updated_at = now() WHERE id = $1::uuid",
                   1, params, NULL);
}

/* Copies the single text column of a one-row result into out. */
static h_result one_text(PGconn *conn, const char *sql, int n, const char *const *params,
                         char *out, size_t outlen) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  snprintf(out, outlen, "%s", r == H_OK ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
  return r;
}

h_result h_customer_repo_get(PGconn *conn, const char *user_id, bool lock,
                             char out[H_PROVIDER_ID_LEN]) {
  const char *params[] = {user_id};
  return one_text(conn,
                  lock ? "SELECT provider_customer_id FROM payment_customers"
                         " WHERE user_id = $1::uuid FOR UPDATE"
                       : "SELECT provider_customer_id FROM payment_customers"
                         " WHERE user_id = $1::uuid",
                  1, params, out, H_PROVIDER_ID_LEN);
}

h_result h_customer_repo_insert(PGconn *conn, const char *user_id, const char *customer,
                                char out[H_PROVIDER_ID_LEN]) {
  const char *params[] = {user_id, customer};
  h_result r = h_db_exec(conn,
                         "INSERT INTO payment_customers (user_id, provider_customer_id)"
                         " VALUES ($1::uuid, $2) ON CONFLICT (user_id) DO NOTHING",
                         2, params, NULL);
  return r == H_OK ? h_customer_repo_get(conn, user_id, false, out) : r;
}

h_result h_customer_repo_email(PGconn *conn, const char *user_id, char out[256]) {
  const char *params[] = {user_id};
  return one_text(conn,
                  "SELECT email FROM users WHERE id = $1::uuid AND status = 'active'", 1,
                  params, out, 256);
}

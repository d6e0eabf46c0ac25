/* subscription_repo.c - subscriptions and subscription invoices in PostgreSQL. */
#include "billing/subscription_repo.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "store/db.h"

#define SUB_FIELDS                                                                          \
  "id::text, user_id::text, plan_id::text, status, coalesce(provider_subscription_id, ''),"  \
  " coalesce(provider_item_id, ''), cancel_at_period_end"

#define SUB_JSON                                                                            \
  "'subscription' AS object, s.id::text AS id, s.user_id::text AS user_id,"                 \
  " s.plan_id::text AS plan_id, s.status, s.cancel_at_period_end,"                          \
  " " H_SQL_TS("s.current_period_start") " AS current_period_start,"                        \
  " " H_SQL_TS("s.current_period_end") " AS current_period_end,"                            \
  " " H_SQL_TS("s.trial_end") " AS trial_end, " H_SQL_TS("s.canceled_at") " AS canceled_at," \
  " s.failed_attempts, s.provider, s.provider_subscription_id,"                             \
  " " H_SQL_TS("s.created_at") " AS created_at, " H_SQL_TS("s.updated_at") " AS updated_at"

static h_result one_sub(PGconn *conn, const char *sql, int n, const char *const *params,
                        struct h_subscription *out) {
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn, sql, n, params, &res);
  if (r == H_OK) {
    snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->user_id, sizeof(out->user_id), "%s", PQgetvalue(res, 0, 1));
    snprintf(out->plan_id, sizeof(out->plan_id), "%s", PQgetvalue(res, 0, 2));
    snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 3));
    snprintf(out->provider_id, sizeof(out->provider_id), "%s", PQgetvalue(res, 0, 4));
    snprintf(out->item, sizeof(out->item), "%s", PQgetvalue(res, 0, 5));
    out->cancel_at_period_end = PQgetvalue(res, 0, 6)[0] == 't';
    PQclear(res);
  }
  return r;
}

h_result h_subscription_repo_insert(PGconn *conn, const char *user_id, const char *plan_id,
                                    struct h_subscription *out) {
  const char *params[] = {user_id, plan_id};
  return one_sub(conn,
                 "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1::uuid,"
                 " $2::uuid, 'pending') RETURNING " SUB_FIELDS,
                 2, params, out);
}

h_result h_subscription_repo_live(PGconn *conn, const char *user_id, struct h_subscription *out) {
  const char *params[] = {user_id};
  return one_sub(conn,
                 "SELECT " SUB_FIELDS " FROM subscriptions WHERE user_id = $1::uuid"
                 " AND status NOT IN ('canceled', 'incomplete_expired') FOR UPDATE",
                 1, params, out);
}

h_result h_subscription_repo_lock(PGconn *conn, const char *id, const char *owner,
                                  struct h_subscription *out) {
  const char *params[] = {id, owner};
  return one_sub(conn,
                 "SELECT " SUB_FIELDS " FROM subscriptions WHERE id = $1::uuid"
                 " AND ($2::uuid IS NULL OR user_id = $2::uuid) FOR UPDATE",
                 2, params, out);
}

h_result h_subscription_repo_lock_by_provider(PGconn *conn, const char *provider_id,
                                              const char *herald_id, struct h_subscription *out) {
  const char *params[] = {provider_id, herald_id != NULL && h_uuid_valid(herald_id) ? herald_id
                                                                                  : NULL};
  return one_sub(conn,
                 "SELECT " SUB_FIELDS " FROM subscriptions WHERE provider_subscription_id = $1"
                 " OR ($2::uuid IS NOT NULL AND id = $2::uuid AND provider_subscription_id IS NULL)"
                 " ORDER BY (provider_subscription_id = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE",
                 2, params, out);
}

/* Unix seconds as a parameter ("" -> NULL). */
static const char *ts(long long t, char buf[24]) {
  snprintf(buf, 24, "%lld", t);
  return t > 0 ? buf : NULL;
}

h_result h_subscription_repo_apply(PGconn *conn, const char *id,
                                   const struct h_provider_subscription *s, const char *plan_id) {
  char a[24], b[24], c[24], d[24];
  const char *params[] = {id, s->status, s->id, s->item, s->cancel_at_period_end ? "t" : "f",
                          ts(s->current_period_start, a), ts(s->current_period_end, b),
                          ts(s->trial_end, c), ts(s->canceled_at, d), plan_id};
  return h_db_exec(conn,
                   "UPDATE subscriptions SET status = $2, provider_subscription_id = $3,"
                   " provider_item_id = NULLIF($4, ''), cancel_at_period_end = $5::boolean,"
                   " current_period_start = to_timestamp($6::bigint),"
                   " current_period_end = to_timestamp($7::bigint),"
                   " trial_end = to_timestamp($8::bigint),"
                   " canceled_at = CASE WHEN $2 = 'canceled' OR $5::boolean"
                   "   THEN COALESCE(to_timestamp($9::bigint), canceled_at, now()) END,"
                   " failed_attempts = CASE WHEN $2 IN ('active', 'trialing') THEN 0"
                   "   ELSE failed_attempts END,"
                   " plan_id = COALESCE($10::uuid, plan_id), updated_at = now()"
                   " WHERE id = $1::uuid",
                   10, params, NULL);
}

h_result h_subscription_repo_drop_pending(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn, "DELETE FROM subscriptions WHERE id = $1::uuid AND status = 'pending'",
                   1, params, NULL);
}

h_result h_subscription_repo_set_failed(PGconn *conn, const char *id, int failed_attempts) {
  char n[12];
  snprintf(n, sizeof(n), "%d", failed_attempts);
  const char *params[] = {id, n};
  return h_db_exec(conn,
                   "UPDATE subscriptions SET failed_attempts = $2::int, updated_at = now()"
                   " WHERE id = $1::uuid",
                   2, params, NULL);
}

h_result h_subscription_repo_get_json(PGconn *conn, const char *id, json_t **out) {
  const char *params[] = {id};
  return h_db_one(conn, "SELECT " SUB_JSON " FROM subscriptions s WHERE s.id = $1::uuid", 1,
                  params, out);
}

h_result h_subscription_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                                  json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {user_id, page->starting_after, limit};
  return h_db_page(conn,
                   "SELECT " SUB_JSON " FROM subscriptions s WHERE s.user_id = $1::uuid"
                   " AND s.status <> 'pending'"
                   " AND ($2::uuid IS NULL OR (s.created_at, s.id) < (SELECT created_at, id"
                   "   FROM subscriptions WHERE id = $2::uuid))"
                   " ORDER BY s.created_at DESC, s.id DESC LIMIT $3::int",
                   3, params, page->limit, data, has_more);
}

h_result h_subscription_repo_invoice(PGconn *conn, const char *subscription_id,
                                     const struct h_provider_invoice *inv, int *notified) {
  char due[24], paid[24], attempts[12];
  snprintf(due, sizeof(due), "%lld", inv->amount_due);
  snprintf(paid, sizeof(paid), "%lld", inv->amount_paid);
  snprintf(attempts, sizeof(attempts), "%d", inv->attempt_count);
  const char *params[] = {subscription_id, inv->id, inv->status, due, paid, inv->currency,
                          attempts};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(
      conn,
      "INSERT INTO subscription_invoices (subscription_id, provider_invoice_id, status,"
      " amount_due, amount_paid, currency, attempt_count, paid_at) VALUES ($1::uuid, $2, $3,"
      " $4::bigint, $5::bigint, $6, $7::int, CASE WHEN $3 = 'paid' THEN now() END)"
      " ON CONFLICT (provider_invoice_id) DO UPDATE SET"
      " status = CASE WHEN subscription_invoices.status = 'paid' THEN 'paid' ELSE $3 END,"
      " amount_paid = GREATEST(subscription_invoices.amount_paid, $5::bigint),"
      " attempt_count = GREATEST(subscription_invoices.attempt_count, $7::int),"
      " paid_at = COALESCE(subscription_invoices.paid_at, CASE WHEN $3 = 'paid' THEN now() END),"
      " updated_at = now() RETURNING notified_attempts",
      7, params, &res);
  if (r == H_OK) {
    *notified = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_subscription_repo_invoice_notified(PGconn *conn, const char *provider_invoice_id,
                                              int attempts) {
  char n[12];
  snprintf(n, sizeof(n), "%d", attempts);
  const char *params[] = {provider_invoice_id, n};
  return h_db_exec(conn,
                   "UPDATE subscription_invoices SET notified_attempts = GREATEST("
                   "notified_attempts, $2::int) WHERE provider_invoice_id = $1",
                   2, params, NULL);
}

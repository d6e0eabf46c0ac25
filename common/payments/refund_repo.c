/* refund_repo.c - SQL for the refunds table. */
#include "payments/refund_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/db.h"

#define REFUND_FIELDS                                                                     \
  "id, payment_id, status, currency, COALESCE(provider_refund_id, ''), amount,"          \
  " needs_reconciliation"

#define REFUND_JSON                                                                       \
  "id, 'refund' AS object, payment_id, amount, currency, reason, status, failure_reason," \
  " provider_refund_id, created_by, needs_reconciliation AS reconciliation_pending, "      \
  H_SQL_TS("created_at") " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

static h_result one_refund(PGconn *conn, const char *sql, int n, const char *const *params,
                           struct h_refund *out) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 0) {
    PQclear(res);
    return H_ERR_NOT_FOUND;
  }
  memset(out, 0, sizeof(*out));
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(out->payment_id, sizeof(out->payment_id), "%s", PQgetvalue(res, 0, 1));
  snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 2));
  snprintf(out->currency, sizeof(out->currency), "%s", PQgetvalue(res, 0, 3));
  snprintf(out->provider_refund_id, sizeof(out->provider_refund_id), "%s",
           PQgetvalue(res, 0, 4));
  out->amount = atoll(PQgetvalue(res, 0, 5));
  out->needs_reconciliation = PQgetvalue(res, 0, 6)[0] == 't';
  PQclear(res);
  return H_OK;
}

h_result h_refund_repo_insert(PGconn *conn, const struct h_refund_new *in, struct h_refund *out) {
  char amount[24];
  snprintf(amount, sizeof(amount), "%lld", in->amount);
  const char *params[] = {in->payment_id, amount, in->currency, in->reason, in->status,
                          in->provider_refund_id, in->created_by, in->in_doubt ? "t" : "f"};
  return one_refund(conn,
                    "INSERT INTO refunds (payment_id, amount, currency, reason, status,"
                    " provider_refund_id, created_by, needs_reconciliation)"
                    " VALUES ($1::uuid, $2::bigint, $3, $4, $5, NULLIF($6, ''), $7::uuid,"
                    " $8::bool) RETURNING " REFUND_FIELDS,
                    8, params, out);
}

h_result h_refund_repo_lock_by_provider(PGconn *conn, const char *provider_refund_id,
                                        const char *herald_refund_id, struct h_refund *out) {
  const char *params[] = {provider_refund_id != NULL && provider_refund_id[0] != '\0'
                              ? provider_refund_id
                              : NULL,
                          h_uuid_valid(herald_refund_id) ? herald_refund_id : NULL};
  return one_refund(conn,
                    "SELECT " REFUND_FIELDS " FROM refunds WHERE provider_refund_id = $1"
                    "    OR ($2::uuid IS NOT NULL AND id = $2::uuid"
                    "        AND (provider_refund_id IS NULL OR provider_refund_id = $1))"
                    " ORDER BY (provider_refund_id = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE",
                    2, params, out);
}

h_result h_refund_repo_apply(PGconn *conn, const char *id, const char *status,
                             const char *provider_refund_id, const char *failure_reason,
                             bool in_doubt) {
  const char *params[] = {id, status, provider_refund_id, failure_reason, in_doubt ? "t" : "f"};
  return h_db_exec(conn,
                   "UPDATE refunds SET status = COALESCE($2, status),"
                   " provider_refund_id = COALESCE(provider_refund_id, NULLIF($3, '')),"
                   " failure_reason = COALESCE(NULLIF($4, ''), failure_reason),"
                   " needs_reconciliation = $5::bool, updated_at = now() WHERE id = $1::uuid",
                   5, params, NULL);
}

h_result h_refund_repo_get_json(PGconn *conn, const char *id, json_t **out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  *out = NULL;
  h_result r = h_db_exec(conn, "SELECT " REFUND_JSON " FROM refunds WHERE id = $1::uuid", 1,
                         params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    *out = h_db_row_json(res, 0);
  }
  PQclear(res);
  return r;
}

h_result h_refund_repo_list(PGconn *conn, const char *payment_id, const struct h_page *page,
                            json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {payment_id, page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " REFUND_JSON " FROM refunds f WHERE f.payment_id = $1::uuid"
                         "   AND ($2::uuid IS NULL OR (f.created_at, f.id) < (SELECT created_at,"
                         "        id FROM refunds WHERE id = $2::uuid AND payment_id = $1::uuid))"
                         " ORDER BY f.created_at DESC, f.id DESC LIMIT $3::int",
                         3, params, page->limit, data, has_more);
}

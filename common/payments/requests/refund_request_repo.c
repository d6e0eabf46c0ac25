/* refund_request_repo.c - SQL for refund_requests. */
#include "payments/requests/refund_request_repo.h"

#include <stdio.h>

#include "store/db.h"

#define REQUEST_JSON                                                                        \
  "q.id, 'refund_request' AS object, q.payment_id, q.user_id, q.amount, p.currency,"        \
  " q.reason, q.status, q.decided_by, q.decision_reason, q.refund_id, "                   \
  H_SQL_TS("q.created_at") " AS created_at, " H_SQL_TS("q.decided_at") " AS decided_at"

h_result h_refund_request_repo_insert(PGconn *conn, const char *payment_id, const char *user_id,
                                      long long amount, const char *reason, json_t **out) {
  char amt[24];
  snprintf(amt, sizeof(amt), "%lld", amount);
  const char *params[] = {payment_id, user_id, amt, reason};
  json_t *pay = NULL;
  h_result r = h_db_one(conn,
                        "SELECT status = 'succeeded' AND amount - amount_refunded >= GREATEST("
                        "$3::bigint, 1) AS ok FROM payments WHERE id = $1::uuid"
                        " AND user_id = $2::uuid AND $4::text IS NOT NULL FOR UPDATE",
                        4, params, &pay);
  bool ok = r == H_OK && json_is_true(json_object_get(pay, "ok"));
  json_decref(pay);
  if (r != H_OK || !ok) {
    return r != H_OK ? r : H_ERR_UNPROCESSABLE;
  }
  return h_db_one(conn,
                  "WITH q AS (INSERT INTO refund_requests (payment_id, user_id, amount, reason)"
                  " VALUES ($1::uuid, $2::uuid, NULLIF($3::bigint, 0), $4) RETURNING *)"
                  " SELECT " REQUEST_JSON " FROM q JOIN payments p ON p.id = q.payment_id",
                  4, params, out);
}

h_result h_refund_request_repo_move(PGconn *conn, const char *id, const char *from,
                                    const char *to, const char *decided_by,
                                    const char *decision_reason, const char *refund_id,
                                    json_t **out) {
  const char *params[] = {id, from, to, decided_by, decision_reason, refund_id};
  return h_db_one(conn,
                  "WITH q AS (UPDATE refund_requests SET status = $3,"
                  " decided_by = COALESCE($4::uuid, decided_by),"
                  " decision_reason = COALESCE($5, decision_reason),"
                  " refund_id = COALESCE($6::uuid, refund_id),"
                  " decided_at = CASE WHEN $3 IN ('approved', 'rejected') THEN now()"
                  "   ELSE decided_at END, updated_at = now()"
                  " WHERE id = $1::uuid AND status = $2 RETURNING *)"
                  " SELECT " REQUEST_JSON " FROM q JOIN payments p ON p.id = q.payment_id",
                  6, params, out);
}

h_result h_refund_request_repo_list(PGconn *conn, const char *status, const struct h_page *page,
                                    json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {status, page->starting_after, limit};
  return h_db_page(conn,
                   "SELECT " REQUEST_JSON " FROM refund_requests q"
                   " JOIN payments p ON p.id = q.payment_id"
                   " WHERE ($1::text IS NULL OR q.status = $1)"
                   "   AND ($2::uuid IS NULL OR (q.created_at, q.id) < (SELECT created_at, id"
                   "        FROM refund_requests WHERE id = $2::uuid))"
                   " ORDER BY q.created_at DESC, q.id DESC LIMIT $3::int",
                   3, params, page->limit, data, has_more);
}

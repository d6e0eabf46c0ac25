/* receipt_repo.c - SQL for receipt_counters and the receipt view of payments. */
#include "payments/receipt_repo.h"

#include <stdio.h>

#include "store/db.h"

h_result h_receipt_repo_assign(PGconn *conn, const char *payment_id, char out[32]) {
  const char *params[] = {payment_id};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(
      conn,
      "WITH due AS (SELECT id FROM payments WHERE id = $1::uuid AND receipt_number IS NULL),"
      " n AS (INSERT INTO receipt_counters (year, last_number)"
      "   SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int, 1 FROM due"
      "   ON CONFLICT (year) DO UPDATE SET last_number = receipt_counters.last_number + 1"
      "   RETURNING year, last_number),"
      " upd AS (UPDATE payments p SET receipt_number = n.year || '-' ||"
      "   lpad(n.last_number::text, 6, '0'), receipt_issued_at = now()"
      "   FROM n WHERE p.id = $1::uuid RETURNING p.receipt_number)"
      " SELECT receipt_number FROM upd"
      " UNION ALL SELECT receipt_number FROM payments WHERE id = $1::uuid"
      "   AND receipt_number IS NOT NULL LIMIT 1",
      1, params, &res);
  if (r == H_OK) {
    snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  return r;
}

h_result h_receipt_repo_get_json(PGconn *conn, const char *payment_id, const char *owner,
                                 json_t **out) {
  const char *params[] = {payment_id, owner};
  return h_db_one(conn,
                  "SELECT 'receipt' AS object, p.receipt_number AS number, p.id AS payment_id,"
                  " " H_SQL_TS("p.receipt_issued_at") " AS issued_at, u.email AS payer_email,"
                  " p.amount, p.currency, p.amount_refunded, p.status, p.payment_type,"
                  " p.description, p.provider, p.provider_reference,"
                  " jsonb_build_object('provider', p.fee_provider, 'platform', p.fee_platform,"
                  " 'net', p.amount - p.fee_provider - p.fee_platform) AS fees"
                  " FROM payments p JOIN users u ON u.id = p.user_id"
                  " WHERE p.id = $1::uuid AND ($2::uuid IS NULL OR p.user_id = $2::uuid)"
                  " AND p.receipt_number IS NOT NULL",
                  2, params, out);
}

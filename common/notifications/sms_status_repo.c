/* sms_status_repo.c - SQL for SMS delivery receipts. */
#include "notifications/sms_status_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

h_result h_sms_status_repo_find(PGconn *conn, const char *provider, const char *message_sid,
                                struct h_sms_receipt_row *out) {
  const char *providers = strcmp(provider, "twilio") == 0 ? "{twilio,file}" : provider;
  char one[40];
  if (providers == provider) {
    snprintf(one, sizeof(one), "{%.32s}", provider);
    providers = one;
  }
  const char *params[] = {message_sid, providers};
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  h_result r = h_db_exec_row(conn,
                         "SELECT id, attempts, status, COALESCE(provider_status, '')"
                         " FROM deliveries WHERE channel = 'sms'"
                         " AND provider = ANY($2::text[])"
                         " AND provider_message_id = $1 FOR UPDATE",
                         2, params, &res);
  if (r != H_OK) {
    return r;
  }
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  out->attempts = atoi(PQgetvalue(res, 0, 1));
  snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 2));
  snprintf(out->provider_status, sizeof(out->provider_status), "%s", PQgetvalue(res, 0, 3));
  PQclear(res);
  return H_OK;
}

h_result h_sms_status_repo_apply(PGconn *conn, const struct h_sms_receipt_row *row,
                            const char *provider_status, const char *error_code) {
  char attempts[16];
  snprintf(attempts, sizeof(attempts), "%d", row->attempts);
  const char *params[] = {row->id, provider_status, error_code, attempts};
  return h_db_exec(
      conn,
      "WITH u AS (UPDATE deliveries SET provider_status = $2,"
      "   delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,"
      "   status = CASE WHEN $2 IN ('failed', 'undelivered') AND status = 'sent' THEN 'failed'"
      "                 ELSE status END,"
      "   reason = CASE WHEN $2 IN ('failed', 'undelivered') AND status = 'sent'"
      "                 THEN 'provider_' || $2 ELSE reason END,"
      "   last_error = CASE WHEN $3::text IS NOT NULL"
      "                     THEN 'provider error ' || $3 ELSE last_error END,"
      "   updated_at = now() WHERE id = $1::uuid RETURNING id, provider)"
      " INSERT INTO delivery_events (delivery_id, attempt, status, provider, error)"
      " SELECT id, $4::int, $2, provider, CASE WHEN $3::text IS NOT NULL"
      "   THEN 'provider error ' || $3 END FROM u",
      4, params, NULL);
}

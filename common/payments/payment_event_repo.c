/* payment_event_repo.c - webhook events, stored once by id. */
#include "payments/payment_event_repo.h"

#include <stdio.h>

#include "store/db.h"

h_result h_payment_event_claim(PGconn *conn, const char *id, const char *type,
                               const char *object_id, long long created, const char *payload,
                               bool *processed) {
  char ts[24];
  snprintf(ts, sizeof(ts), "%lld", created);
  const char *params[] = {id, type, object_id, created > 0 ? ts : NULL, payload};
  h_result r = h_db_exec(conn,
                         "INSERT INTO payment_events (id, type, object_id, provider_created_at,"
                         " payload) VALUES ($1, $2, $3, to_timestamp($4::bigint), $5::jsonb)"
                         " ON CONFLICT (id) DO NOTHING",
                         5, params, NULL);
  if (r != H_OK) {
    return r;
  }
  PGresult *res = NULL;
  r = h_db_exec(conn,
                "SELECT processed_at IS NOT NULL FROM payment_events WHERE id = $1 FOR UPDATE",
                1, params, &res);
  if (r == H_OK) {
    *processed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
  }
  return r;
}

h_result h_payment_event_finish(PGconn *conn, const char *id, const char *outcome) {
  const char *params[] = {id, outcome};
  return h_db_exec(conn,
                   "UPDATE payment_events SET processed_at = now(), outcome = $2 WHERE id = $1",
                   2, params, NULL);
}

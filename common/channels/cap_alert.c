/* cap_alert.c - the daily-cap alert to the admins (see cap_alert.h). */
#include "channels/cap_alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/log.h"
#include "notifications/outbox.h"
#include "queue/push_list.h"
#include "store/db.h"

/* Claims today's alert of every channel with capped deliveries and no alert yet:
 * *rows is an array of {channel, capped} (new reference). */
static h_result claim_alerts(PGconn *conn, json_t **rows) {
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),"
      " c AS (SELECT channel, count(*)::int AS n FROM deliveries, today"
      "   WHERE status = 'capped' AND updated_at >= (today.day::timestamp AT TIME ZONE 'UTC')"
      "   GROUP BY channel)"
      " INSERT INTO cap_alerts (channel, day, capped)"
      " SELECT c.channel, today.day, c.n FROM c, today ON CONFLICT DO NOTHING"
      " RETURNING channel, capped",
      0, NULL, &res);
  if (r == H_OK) {
    *rows = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

/* E-mails every active admin about channel; the delivery ids go to push. */
static h_result tell_admins(PGconn *conn, const json_t *row, struct h_push_list *push) {
  static const struct h_actor system = {.type = "system"};
  const char *channel = json_string_value(json_object_get(row, "channel"));
  json_int_t capped = json_integer_value(json_object_get(row, "capped"));
  json_t *d = json_pack("{sssI}", "channel", channel, "capped", capped);
  h_result r = h_audit_write(conn, &system, "channel.daily_cap_reached", "channel", channel, d,
                             false);
  PGresult *admins = NULL;
  if (r == H_OK) {
    r = h_db_exec(conn, "SELECT id FROM users WHERE role = 'admin' AND status = 'active'", 0,
                  NULL, &admins);
  }
  char *body = h_sprintf("The daily cap of the %s channel (HERALD_DAILY_CAPS) is reached: further"
                         " %s deliveries today end 'capped' (%lld so far).",
                         channel, channel, (long long)capped);
  for (int i = 0; r == H_OK && i < PQntuples(admins); i++) {
    char id[37];
    r = h_outbox_email(conn, PQgetvalue(admins, i, 0), "account", "daily_cap_reached",
                       "A daily delivery cap was reached", body, d, id);
    if (r == H_OK) {
      h_push_list_add(push, H_QUEUE_EMAIL, id, 0);
    }
  }
  free(body);
  PQclear(admins);
  json_decref(d);
  return r;
}

h_result h_cap_alert_run(PGconn *conn, struct h_redis *redis, long *alerted) {
  json_t *rows = NULL;
  struct h_push_list push = {0};
  h_result r = h_db_begin(conn);
  if (r == H_OK) {
    r = claim_alerts(conn, &rows);
  }
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row) {
    if (r == H_OK) {
      r = tell_admins(conn, row, &push);
    }
  }
  r = r == H_OK ? h_db_commit(conn) : r;
  if (r != H_OK) {
    h_db_rollback(conn);
  } else {
    h_push_list_send(redis, &push, "cap-alert");
    if (json_array_size(rows) > 0) {
      h_log_warning("daily cap reached on %zu channel(s): admins alerted", json_array_size(rows));
    }
  }
  if (alerted != NULL) {
    *alerted = r == H_OK ? (long)json_array_size(rows) : 0;
  }
  h_push_list_clear(&push);
  json_decref(rows);
  return r;
}

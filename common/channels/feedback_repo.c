/* feedback_repo.c - SQL for providers' reports about recipients (see feedback_repo.h). */
#include "channels/feedback_repo.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"

h_result h_feedback_repo_suppress(PGconn *conn, const char *email, const char *reason,
                                  const char *provider, const char *event_id,
                                  const char *detail, bool *created) {
  const char *params[] = {email, reason, provider, event_id, detail};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "INSERT INTO email_suppressions (email, reason, provider, event_id, detail)"
      " VALUES (lower($1), $2, $3, $4, left($5, 500))"
      " ON CONFLICT (email) DO UPDATE SET reason = EXCLUDED.reason,"
      "   provider = EXCLUDED.provider, event_id = EXCLUDED.event_id,"
      "   detail = EXCLUDED.detail, updated_at = now()"
      " RETURNING (xmax = 0)",
      5, params, &res);
  *created = r == H_OK && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  return r;
}

h_result h_feedback_repo_sms_pref(PGconn *conn, const char *phone, bool on, json_t **user_ids) {
  const char *params[] = {phone, on ? "true" : "false"};
  PGresult *res = NULL;
  *user_ids = json_array();
  h_result r = h_db_exec(
      conn,
      "INSERT INTO notification_preferences (user_id, channels)"
      " SELECT id, jsonb_build_object('sms', $2::boolean) FROM users"
      " WHERE phone = $1 AND status <> 'deleted'"
      " ON CONFLICT (user_id) DO UPDATE SET"
      "   channels = notification_preferences.channels || EXCLUDED.channels, updated_at = now()"
      " RETURNING user_id",
      2, params, &res);
  for (int i = 0; r == H_OK && i < PQntuples(res); i++) {
    json_array_append_new(*user_ids, json_string(PQgetvalue(res, i, 0)));
  }
  PQclear(res);
  return r;
}

h_result h_feedback_repo_user_by_phone(PGconn *conn, const char *phone, char out[37]) {
  const char *params[] = {phone};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "SELECT id FROM users WHERE phone = $1 AND status <> 'deleted'"
                             " ORDER BY created_at LIMIT 1",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  return r;
}

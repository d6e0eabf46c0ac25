/* preference_repo.c - SQL for notification_preferences. */
#include "notifications/preference_repo.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"
#include "notifications/delivery_plan.h"

/* {"in_app":true,...} with stored (may be NULL) on top. New reference. */
static json_t *channels_with_defaults(const json_t *stored) {
  json_t *out = json_object();
  for (int c = 0; c < H_CHANNEL_COUNT; c++) {
    json_t *v = json_object_get(stored, h_channel_name((enum h_channel)c));
    json_object_set_new(out, h_channel_name((enum h_channel)c),
                        json_boolean(!json_is_boolean(v) || json_is_true(v)));
  }
  return out;
}

static json_t *nullable(const PGresult *res, int col) {
  return PQgetisnull(res, 0, col) ? json_null() : json_string(PQgetvalue(res, 0, col));
}

h_result h_prefs_repo_get(PGconn *conn, const char *user_id, json_t **prefs) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  *prefs = NULL;
  h_result r = h_db_exec_row(conn,
                         "SELECT p.channels, p.categories, COALESCE(p.quiet_enabled, false),"
                         " p.quiet_start, p.quiet_end, COALESCE(p.quiet_timezone, u.timezone), "
                         H_SQL_TS("p.updated_at")
                         " FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id"
                         " WHERE u.id = $1::uuid AND u.status <> 'deleted'",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  json_t *stored = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
  json_t *categories = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
  *prefs = json_pack("{sssoso}", "object", "notification_preferences", "channels",
                     channels_with_defaults(stored), "categories",
                     categories != NULL ? categories : json_object());
  json_object_set_new(*prefs, "quiet_hours",
                      json_pack("{sbsososo}", "enabled", PQgetvalue(res, 0, 2)[0] == 't', "start",
                                nullable(res, 3), "end", nullable(res, 4), "timezone",
                                nullable(res, 5)));
  json_object_set_new(*prefs, "updated_at", nullable(res, 6));
  json_decref(stored);
  PQclear(res);
  return H_OK;
}

h_result h_prefs_repo_put(PGconn *conn, const char *user_id, const struct h_prefs_input *in) {
  char *channels = in->channels != NULL ? json_dumps(in->channels, JSON_COMPACT) : NULL;
  char *categories = in->categories != NULL ? json_dumps(in->categories, JSON_COMPACT) : NULL;
  const char *params[] = {user_id, channels, categories, in->quiet_given ? "t" : "f",
                          in->quiet_enabled ? "t" : "f", in->quiet_start, in->quiet_end,
                          in->quiet_timezone};
  h_result r = h_db_exec(
      conn,
      "INSERT INTO notification_preferences AS p (user_id, channels, categories, quiet_enabled,"
      "   quiet_start, quiet_end, quiet_timezone)"
      " VALUES ($1::uuid, COALESCE($2::jsonb, '{}'), COALESCE($3::jsonb, '{}'),"
      "   $4::bool AND $5::bool, $6, $7, $8)"
      " ON CONFLICT (user_id) DO UPDATE SET"
      "   channels = COALESCE($2::jsonb, p.channels),"
      "   categories = COALESCE($3::jsonb, p.categories),"
      "   quiet_enabled = CASE WHEN $4::bool THEN $5::bool ELSE p.quiet_enabled END,"
      "   quiet_start = CASE WHEN $4::bool THEN $6 ELSE p.quiet_start END,"
      "   quiet_end = CASE WHEN $4::bool THEN $7 ELSE p.quiet_end END,"
      "   quiet_timezone = CASE WHEN $4::bool THEN $8 ELSE p.quiet_timezone END,"
      "   updated_at = now()",
      8, params, NULL);
  free(channels);
  free(categories);
  return r;
}

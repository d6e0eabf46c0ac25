/* device_repo.c - SQL for devices. */
#include "notifications/device_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define DEVICE_COLUMNS                                                                     \
  "id, 'device' AS object, token, platform, app_version, active, "                        \
  H_SQL_TS("last_seen_at") " AS last_seen_at, " H_SQL_TS("created_at") " AS created_at, " \
  H_SQL_TS("updated_at") " AS updated_at"

h_result h_device_repo_upsert(PGconn *conn, const char *user_id, const char *token,
                              const char *platform, const char *app_version, json_t **device,
                              bool *created, char previous_user[37]) {
  const char *params[] = {user_id, token, platform, app_version};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH old AS (SELECT user_id FROM devices WHERE token = $2)"
      " INSERT INTO devices (user_id, token, platform, app_version) VALUES ($1::uuid, $2, $3, $4)"
      " ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id,"
      "   platform = EXCLUDED.platform, app_version = EXCLUDED.app_version, active = true,"
      "   last_seen_at = now(), updated_at = now()"
      " RETURNING " DEVICE_COLUMNS ", (xmax = 0) AS created, (SELECT user_id FROM old) AS previous",
      4, params, &res);
  if (r != H_OK) {
    return r;
  }
  *device = h_db_row_json(res, 0);
  *created = json_is_true(json_object_get(*device, "created"));
  snprintf(previous_user, 37, "%s", json_string_value(json_object_get(*device, "previous"))
                                        ? json_string_value(json_object_get(*device, "previous"))
                                        : "");
  json_object_del(*device, "created");
  json_object_del(*device, "previous");
  PQclear(res);
  return H_OK;
}

h_result h_device_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                            json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {user_id, page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " DEVICE_COLUMNS " FROM devices WHERE user_id = $1::uuid"
                         "   AND ($2::uuid IS NULL OR (created_at, id) <"
                         "        (SELECT created_at, id FROM devices WHERE id = $2::uuid))"
                         " ORDER BY devices.created_at DESC, devices.id DESC LIMIT $3::int",
                         3, params, page->limit, data, has_more);
}

h_result h_device_repo_delete(PGconn *conn, const char *id, const char *user_id) {
  const char *params[] = {id, user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "DELETE FROM devices WHERE id = $1::uuid AND user_id = $2::uuid",
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

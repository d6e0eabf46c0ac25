/* digest_repo.c - SQL for digests. */
#include "channels/digest_repo.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"

h_result h_digest_repo_due(PGconn *conn, const json_t *windows, int limit, json_t **groups) {
  char *w = json_dumps(windows, JSON_COMPACT);
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {w, lim};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "SELECT d.user_id, d.channel, n.category FROM deliveries d"
      " JOIN notifications n ON n.id = d.notification_id WHERE d.status = 'digest'"
      " GROUP BY d.user_id, d.channel, n.category"
      " HAVING min(d.created_at) <= now() - make_interval(secs =>"
      "   COALESCE(($1::jsonb ->> n.category)::int, 0))"
      " ORDER BY min(d.created_at) LIMIT $2::int",
      2, params, &res);
  free(w);
  if (r == H_OK) {
    *groups = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_digest_repo_take(PGconn *conn, const char *user_id, const char *channel,
                            const char *category, int limit, json_t **members) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {user_id, channel, category, lim};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "SELECT d.id, n.title, n.body, n.action_url FROM deliveries d"
      " JOIN notifications n ON n.id = d.notification_id"
      " WHERE d.user_id = $1::uuid AND d.channel = $2 AND d.status = 'digest'"
      "   AND n.category = $3"
      " ORDER BY d.created_at, d.id LIMIT $4::int FOR UPDATE OF d SKIP LOCKED",
      4, params, &res);
  if (r == H_OK) {
    *members = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_digest_repo_mark(PGconn *conn, const char *ids_json, const char *digest_id) {
  const char *params[] = {ids_json, digest_id};
  return h_db_exec(conn,
                   "UPDATE deliveries SET status = 'digested', reason = 'digest',"
                   "   digest_delivery_id = $2::uuid, updated_at = now()"
                   " WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)"
                   "   AND status = 'digest'",
                   2, params, NULL);
}

/* webhook_endpoint_repo.c - SQL for webhook_endpoints. */
#include "channels/webhook_endpoint_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define ENDPOINT_COLUMNS                                                                     \
  "id, 'webhook_endpoint' AS object, url, format, description,"                            \
  " to_jsonb(categories) AS categories, user_id IS NULL AS system, enabled,"                \
  " consecutive_failures, disabled_reason, " H_SQL_TS("disabled_at") " AS disabled_at, "     \
  H_SQL_TS("last_success_at") " AS last_success_at, "                                        \
  H_SQL_TS("last_failure_at") " AS last_failure_at, "                                        \
  H_SQL_TS("CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END") \
  " AS previous_secret_expires_at, " H_SQL_TS("created_at") " AS created_at, "               \
  H_SQL_TS("updated_at") " AS updated_at"

/* The endpoints of owner $N (NULL: system-wide). */
#define OWNED_BY(n) " ((" n "::uuid IS NULL AND user_id IS NULL) OR user_id = " n "::uuid)"

h_result h_endpoint_repo_count_locked(PGconn *conn, const char *owner, int *n) {
  const char *params[] = {owner != NULL ? owner : "system"};
  h_result r = h_db_exec(conn, "SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1))",
                         1, params, NULL);
  const char *p2[] = {owner};
  PGresult *res = NULL;
  if (r == H_OK) {
    r = h_db_exec(conn, "SELECT count(*)::int FROM webhook_endpoints WHERE" OWNED_BY("$1"), 1, p2,
                  &res);
  }
  if (r == H_OK) {
    *n = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_endpoint_repo_insert(PGconn *conn, const struct h_endpoint_row *row, json_t **out) {
  char *cats = row->categories != NULL ? json_dumps(row->categories, JSON_COMPACT) : NULL;
  const char *params[] = {row->owner, row->created_by, row->url, row->format, row->description,
                          cats, row->secret};
  h_result r = h_db_one(
      conn,
      "INSERT INTO webhook_endpoints (user_id, created_by, url, format, description, categories,"
      "   secret)"
      " VALUES ($1::uuid, $2::uuid, $3, $4, $5,"
      "   (SELECT array_agg(c) FROM jsonb_array_elements_text($6::jsonb) c), $7)"
      " RETURNING " ENDPOINT_COLUMNS ", secret",
      7, params, out);
  free(cats);
  return r;
}

h_result h_endpoint_repo_list(PGconn *conn, const char *owner, const struct h_page *page,
                              json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {owner, page->starting_after, limit};
  return h_db_page(conn,
                   "SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints WHERE" OWNED_BY("$1")
                   "   AND ($2::uuid IS NULL OR (created_at, id) <"
                   "        (SELECT created_at, id FROM webhook_endpoints WHERE id = $2::uuid))"
                   " ORDER BY created_at DESC, id DESC LIMIT $3::int",
                   3, params, page->limit, data, has_more);
}

h_result h_endpoint_repo_delete(PGconn *conn, const char *id, const char *owner) {
  const char *params[] = {id, owner};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "DELETE FROM webhook_endpoints WHERE id = $1::uuid AND"
                         OWNED_BY("$2"), 2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_endpoint_repo_rotate(PGconn *conn, const char *id, const char *owner,
                                const char *secret, int grace_s, json_t **out) {
  char grace[16];
  snprintf(grace, sizeof(grace), "%d", grace_s);
  const char *params[] = {id, owner, secret, grace};
  return h_db_one(conn,
                  "UPDATE webhook_endpoints SET previous_secret = secret, secret = $3,"
                  "   previous_secret_expires_at = now() + make_interval(secs => $4::int),"
                  "   updated_at = now()"
                  " WHERE id = $1::uuid AND" OWNED_BY("$2")
                  " RETURNING " ENDPOINT_COLUMNS ", secret",
                  4, params, out);
}

h_result h_endpoint_repo_enable(PGconn *conn, const char *id, const char *owner, json_t **out) {
  const char *params[] = {id, owner};
  return h_db_one(conn,
                  "UPDATE webhook_endpoints SET enabled = true, consecutive_failures = 0,"
                  "   disabled_at = NULL, disabled_reason = NULL, owner_notified_at = NULL,"
                  "   updated_at = now()"
                  " WHERE id = $1::uuid AND" OWNED_BY("$2") " RETURNING " ENDPOINT_COLUMNS,
                  2, params, out);
}

h_result h_endpoint_repo_take_disabled(PGconn *conn, int limit, json_t **rows) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {lim};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH t AS (SELECT id FROM webhook_endpoints"
      "   WHERE disabled_at IS NOT NULL AND owner_notified_at IS NULL"
      "   ORDER BY disabled_at LIMIT $1::int FOR UPDATE SKIP LOCKED)"
      " UPDATE webhook_endpoints e SET owner_notified_at = now() FROM t WHERE e.id = t.id"
      " RETURNING e.id, e.url, COALESCE(e.user_id, e.created_by) AS owner,"
      "   e.disabled_reason AS reason, e.consecutive_failures AS failures",
      1, params, &res);
  if (r == H_OK) {
    *rows = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

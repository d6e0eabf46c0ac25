/* broadcast_repo.c - SQL for broadcasts and their fan-out. */
#include "notifications/broadcast_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "notifications/notification_repo.h"
#include "store/db.h"

#define BROADCAST_COLUMNS                                                                     \
  "id, CASE kind WHEN 'bulk' THEN 'notification_batch' ELSE 'announcement' END AS object,"    \
  " target, CASE WHEN status = 'pending' AND send_at > now() THEN 'scheduled' ELSE status END" \
  " AS status, recipients, created_count, COALESCE(cardinality(user_ids), 0) AS requested,"   \
  " request->>'category' AS category, request->>'priority' AS priority,"                      \
  " request->'channels' AS channels, request->>'template' AS template,"                       \
  " request->>'title' AS title, request->>'body' AS body, request->>'action_url' AS action_url," \
  " request->'data' AS data, error, " H_SQL_TS("send_at") " AS send_at, "                       \
  " to_jsonb(locales) AS locales, to_jsonb(topics) AS topics, "                              \
  H_SQL_TS("withdrawn_at") " AS withdrawn_at, "                                              \
  H_SQL_TS("started_at") " AS started_at, " H_SQL_TS("completed_at") " AS completed_at, "     \
  H_SQL_TS("created_at") " AS created_at"

/* The recipients of broadcast b among users u (active users of the target, who existed when
 * the fan-out started, of one of its locales or languages and subscribed to one of its
 * topics when it has them). */
#define RECIPIENT_OF(b)                                                                      \
  " u.status = 'active' AND u.created_at <= COALESCE(" b ".started_at, now()) AND CASE " b   \
  ".target WHEN 'list' THEN u.id = ANY(" b ".user_ids) WHEN 'all' THEN true"                 \
  " WHEN 'users' THEN u.role = 'user' ELSE u.role = 'admin' END"                             \
  " AND (" b ".locales IS NULL OR lower(u.locale) = ANY(" b ".locales)"                      \
  "   OR split_part(lower(u.locale), '-', 1) = ANY(" b ".locales))"                          \
  " AND (" b ".topics IS NULL OR EXISTS (SELECT 1 FROM topic_subscriptions ts"               \
  "   WHERE ts.user_id = u.id AND ts.topic_key = ANY(" b ".topics)))"

/* h_db_one, with a null "data" left out of the broadcast. */
static h_result one_row(PGconn *conn, const char *sql, int n, const char *const *params,
                        json_t **out) {
  h_result r = h_db_one(conn, sql, n, params, out);
  if (r == H_OK && json_is_null(json_object_get(*out, "data"))) {
    json_object_del(*out, "data");
  }
  return r;
}

/* '{id,...}' for a uuid[] parameter from an array of UUID strings; NULL for NULL. */
static char *uuid_array(const json_t *ids) {
  if (ids == NULL) {
    return NULL;
  }
  char *out = h_malloc(json_array_size(ids) * 37 + 3);
  size_t len = 0, i;
  json_t *id;
  out[len++] = '{';
  json_array_foreach((json_t *)ids, i, id) {
    len += (size_t)sprintf(out + len, "%s%.36s", i > 0 ? "," : "", json_string_value(id));
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

h_result h_broadcast_repo_insert(PGconn *conn, const struct h_broadcast_row *row, json_t **out) {
  char *ids = uuid_array(row->user_ids);
  char *request = json_dumps(row->request, JSON_COMPACT);
  char *locales = row->locales != NULL ? json_dumps(row->locales, JSON_COMPACT) : NULL;
  char *topics = row->topics != NULL ? json_dumps(row->topics, JSON_COMPACT) : NULL;
  const char *params[] = {row->kind, row->target, ids, request, row->send_at,
                          row->created_by, row->created_by_type, locales, topics};
  h_result r = one_row(conn,
                       "WITH p AS (SELECT $2::text AS target, $3::uuid[] AS user_ids,"
                       "   NULL::timestamptz AS started_at,"
                       "   (SELECT array_agg(lower(v)) FROM jsonb_array_elements_text($8::jsonb) v)"
                       "     AS locales,"
                       "   (SELECT array_agg(v) FROM jsonb_array_elements_text($9::jsonb) v)"
                       "     AS topics)"
                       " INSERT INTO broadcasts (kind, target, user_ids, request, send_at,"
                       "   created_by, created_by_type, recipients, locales, topics)"
                       " SELECT $1, p.target, p.user_ids, $4::jsonb, $5::timestamptz, $6, $7,"
                       "   (SELECT count(*) FROM users u WHERE" RECIPIENT_OF("p") "),"
                       "   p.locales, p.topics"
                       " FROM p RETURNING " BROADCAST_COLUMNS,
                       9, params, out);
  free(ids);
  free(request);
  free(locales);
  free(topics);
  return r;
}

h_result h_broadcast_repo_get(PGconn *conn, const char *id, const char *kind, json_t **out) {
  const char *params[] = {id, kind};
  return one_row(conn,
                 "SELECT " BROADCAST_COLUMNS " FROM broadcasts WHERE id = $1::uuid AND kind = $2",
                 2, params, out);
}

h_result h_broadcast_repo_list(PGconn *conn, const char *kind, const struct h_page *page,
                               json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {kind, page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " BROADCAST_COLUMNS " FROM broadcasts WHERE kind = $1"
                         "   AND ($2::uuid IS NULL OR (created_at, id) <"
                         "        (SELECT created_at, id FROM broadcasts WHERE id = $2::uuid))"
                         " ORDER BY broadcasts.created_at DESC, broadcasts.id DESC LIMIT $3::int",
                         3, params, page->limit, data, has_more);
}

h_result h_broadcast_repo_claim(PGconn *conn, int lease_s, struct h_broadcast_job *job) {
  char lease[16];
  snprintf(lease, sizeof(lease), "%d", lease_s);
  const char *params[] = {lease};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(
      conn,
      "UPDATE broadcasts b SET status = 'running', lease_token = gen_random_uuid(),"
      "   lease_until = now() + make_interval(secs => $1::int), updated_at = now(),"
      "   started_at = COALESCE(b.started_at, now()),"
      "   recipients = CASE WHEN b.started_at IS NULL THEN (SELECT count(*) FROM users u"
      "     WHERE" RECIPIENT_OF("b") ") ELSE b.recipients END"
      " WHERE b.id = (SELECT id FROM broadcasts WHERE status IN ('pending', 'running')"
      "   AND (lease_until IS NULL OR lease_until < now())"
      "   AND (send_at IS NULL OR send_at <= now())"
      "   ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
      " RETURNING b.id, b.lease_token, b.cursor_id, b.request",
      1, params, &res);
  if (r != H_OK) {
    return r;
  }
  snprintf(job->id, sizeof(job->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(job->lease, sizeof(job->lease), "%s", PQgetvalue(res, 0, 1));
  snprintf(job->cursor, sizeof(job->cursor), "%s", PQgetvalue(res, 0, 2));
  job->request = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
  PQclear(res);
  return job->request != NULL ? H_OK : H_ERR_INTERNAL;
}

h_result h_broadcast_repo_next_batch(PGconn *conn, const struct h_broadcast_job *job, int batch,
                                     PGresult **res) {
  const char *params[] = {job->id, job->lease};
  PGresult *lock = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT 1 FROM broadcasts WHERE id = $1::uuid AND lease_token = $2::uuid"
                         " AND status = 'running' FOR UPDATE",
                         2, params, &lock);
  if (r != H_OK) {
    return r;
  }
  bool ours = PQntuples(lock) == 1;
  PQclear(lock);
  if (!ours) {
    return H_ERR_CONFLICT;
  }
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", batch);
  const char *p2[] = {job->id, job->cursor[0] != '\0' ? job->cursor : NULL, limit};
  return h_db_exec(conn,
                   "SELECT u.id FROM broadcasts b, users u WHERE b.id = $1::uuid AND"
                   RECIPIENT_OF("b") " AND ($2::uuid IS NULL OR u.id > $2::uuid)"
                   " ORDER BY u.id LIMIT $3::int",
                   3, p2, res);
}

h_result h_broadcast_repo_progress(PGconn *conn, const struct h_broadcast_job *job,
                                   const char *cursor, int created, bool done, int lease_s) {
  char n[16], lease[16];
  snprintf(n, sizeof(n), "%d", created);
  snprintf(lease, sizeof(lease), "%d", lease_s);
  const char *params[] = {job->id, cursor, n, done ? "t" : "f", lease};
  return h_db_exec(conn,
                   "UPDATE broadcasts SET cursor_id = COALESCE($2::uuid, cursor_id),"
                   " created_count = created_count + $3::int,"
                   " status = CASE WHEN $4::bool THEN 'completed' ELSE status END,"
                   " completed_at = CASE WHEN $4::bool THEN now() END,"
                   " lease_until = CASE WHEN $4::bool THEN NULL"
                   "   ELSE now() + make_interval(secs => $5::int) END,"
                   " updated_at = now() WHERE id = $1::uuid",
                   5, params, NULL);
}

h_result h_broadcast_repo_fail(PGconn *conn, const struct h_broadcast_job *job,
                               const char *error) {
  const char *params[] = {job->id, job->lease, error};
  return h_db_exec(conn,
                   "UPDATE broadcasts SET status = 'failed', error = $3, lease_until = NULL,"
                   " completed_at = now(), updated_at = now()"
                   " WHERE id = $1::uuid AND lease_token = $2::uuid",
                   3, params, NULL);
}

h_result h_broadcast_repo_release(PGconn *conn, const struct h_broadcast_job *job) {
  const char *params[] = {job->id, job->lease};
  return h_db_exec(conn,
                   "UPDATE broadcasts SET lease_until = NULL, updated_at = now()"
                   " WHERE id = $1::uuid AND lease_token = $2::uuid AND status = 'running'",
                   2, params, NULL);
}

/* Takes the feed locks (H_NOTIF_FEED_LOCK) of the users with in-app copies of broadcast id
 * that match cond, in order. */
static h_result lock_copies(PGconn *conn, const char *id, bool unread_only) {
  const char *params[] = {id, unread_only ? "t" : "f"};
  return h_db_exec(conn,
                   "SELECT " H_NOTIF_FEED_LOCK("s.u") " FROM (SELECT DISTINCT user_id AS u"
                   " FROM notifications WHERE broadcast_id = $1::uuid AND in_app"
                   " AND deleted_at IS NULL AND (NOT $2::bool OR read_at IS NULL) ORDER BY 1) s",
                   2, params, NULL);
}

/* The users of a JSON array text (new array; an empty one for NULL). */
static json_t *users_of(const PGresult *res, int col) {
  json_t *u = PQgetisnull(res, 0, col) ? NULL : json_loads(PQgetvalue(res, 0, col), 0, NULL);
  return json_is_array(u) ? u : (json_decref(u), json_array());
}

h_result h_broadcast_repo_withdraw(PGconn *conn, const char *id, long *removed,
                                   long *cancelled, json_t **users, json_t **out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  *users = NULL;
  h_result r = lock_copies(conn, id, true);
  if (r == H_OK) {
    r = h_db_exec_row(conn,
      "WITH b AS (UPDATE broadcasts SET status = 'withdrawn', withdrawn_at = now(),"
      "   lease_token = NULL, lease_until = NULL, updated_at = now()"
      "   WHERE id = $1::uuid AND kind = 'announcement' AND status <> 'withdrawn'"
      "   RETURNING id),"
      " n AS (UPDATE notifications SET deleted_at = now(), " H_NOTIF_BUMP_SEQ " FROM b"
      "   WHERE notifications.broadcast_id = b.id AND in_app AND read_at IS NULL"
      "   AND deleted_at IS NULL RETURNING user_id),"
      " d AS (UPDATE deliveries SET status = 'skipped', reason = 'withdrawn', updated_at = now()"
      "   FROM notifications x, b WHERE x.broadcast_id = b.id AND deliveries.notification_id = x.id"
      "   AND deliveries.status IN ('queued', 'scheduled', 'held') RETURNING 1)"
      " SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM n), (SELECT count(*) FROM d),"
      "   (SELECT json_agg(DISTINCT user_id) FROM n)",
      1, params, &res);
  }
  if (r != H_OK) {
    return r;
  }
  bool found = atoi(PQgetvalue(res, 0, 0)) == 1;
  *removed = atol(PQgetvalue(res, 0, 1));
  *cancelled = atol(PQgetvalue(res, 0, 2));
  *users = users_of(res, 3);
  PQclear(res);
  if (!found) {
    return H_ERR_NOT_FOUND;
  }
  return h_broadcast_repo_get(conn, id, "announcement", out);
}

h_result h_broadcast_repo_lock(PGconn *conn, const char *id, const char *kind, json_t **out) {
  const char *params[] = {id, kind};
  return one_row(conn,
                 "SELECT " BROADCAST_COLUMNS ", request AS stored FROM broadcasts"
                 " WHERE id = $1::uuid AND kind = $2 FOR UPDATE",
                 2, params, out);
}

h_result h_broadcast_repo_update(PGconn *conn, const char *id, const json_t *request,
                                 long *updated, json_t **users, json_t **out) {
  char *text = json_dumps(request, JSON_COMPACT);
  const char *params[] = {id, text};
  PGresult *res = NULL;
  *users = NULL;
  h_result r = lock_copies(conn, id, false);
  if (r == H_OK) {
    r = h_db_exec_row(conn,
      "WITH b AS (UPDATE broadcasts SET request = $2::jsonb, updated_at = now(),"
      "   lease_token = NULL, lease_until = NULL"
      "   WHERE id = $1::uuid RETURNING id, request),"
      " n AS (UPDATE notifications SET title = b.request->>'title', body = b.request->>'body',"
      "   action_url = b.request->>'action_url',"
      "   data = COALESCE(b.request->'data', '{}'::jsonb),"
      "   search = CASE WHEN in_app THEN to_tsvector(herald_ts_config(locale),"
      "     COALESCE(b.request->>'title', '') || ' ' || COALESCE(b.request->>'body', '')) END,"
      "   " H_NOTIF_BUMP_SEQ
      "   FROM b WHERE notifications.broadcast_id = b.id AND deleted_at IS NULL"
      "   RETURNING user_id, in_app)"
      " SELECT count(*), json_agg(DISTINCT user_id) FILTER (WHERE in_app) FROM n",
      2, params, &res);
  }
  free(text);
  if (r != H_OK) {
    return r;
  }
  *updated = atol(PQgetvalue(res, 0, 0));
  *users = users_of(res, 1);
  PQclear(res);
  return h_broadcast_repo_get(conn, id, "announcement", out);
}

/* notification_repo.c - SQL for notifications and deliveries. */
#include "notifications/notification_repo.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"

#define FEED_WHERE H_NOTIF_FEED_WHERE
#define FEED_COLUMNS H_NOTIF_FEED_COLUMNS

#define ADMIN_COLUMNS                                                                       \
  FEED_COLUMNS ", user_id, template_key AS template, locale,"                               \
  " CASE WHEN sensitive THEN NULL ELSE html END AS html,"                                   \
  " CASE WHEN sensitive THEN NULL ELSE rendered END AS rendered, sensitive, in_app,"        \
  " broadcast_id, " H_SQL_TS("deleted_at") " AS deleted_at"

#define DELIVERY_COLUMNS                                                                    \
  "id, 'delivery' AS object, notification_id, user_id, channel, status, reason, attempts,"  \
  " " H_SQL_TS("due_at") " AS due_at, " H_SQL_TS("sent_at") " AS sent_at, provider,"        \
  " provider_message_id, provider_attempts, last_error, " H_SQL_TS("created_at")            \
  " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

static void copy(char *dst, size_t n, const PGresult *res, int col) {
  snprintf(dst, n, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

h_result h_notif_repo_recipient(PGconn *conn, const char *user_id, const char *due_at,
                                struct h_recipient_row *out) {
  static const char sql[] =
      "SELECT u.locale, u.phone IS NOT NULL,"
      " (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active)::int,"
      " json_build_object('channels', COALESCE(p.channels, '{}'::jsonb),"
      "   'categories', COALESCE(p.categories, '{}'::jsonb)),"
      " COALESCE(p.quiet_enabled, false), p.quiet_start, p.quiet_end,"
      " COALESCE(p.quiet_timezone, u.timezone),"
      " CASE WHEN p.quiet_enabled THEN to_char(COALESCE($2::timestamptz, now())"
      "   AT TIME ZONE COALESCE(p.quiet_timezone, u.timezone), 'YYYY-MM-DD HH24:MI') END,"
      " " H_SQL_TS("$2::timestamptz")
      " FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id"
      " WHERE u.id = $1::uuid AND u.status <> 'deleted'";
  const char *params[] = {user_id, due_at};
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  h_result r = h_db_exec_row(conn, sql, 2, params, &res);
  if (r != H_OK) {
    return r;
  }
  copy(out->locale, sizeof(out->locale), res, 0);
  out->has_phone = PQgetvalue(res, 0, 1)[0] == 't';
  out->active_devices = atoi(PQgetvalue(res, 0, 2));
  out->prefs = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
  out->quiet_enabled = PQgetvalue(res, 0, 4)[0] == 't';
  copy(out->quiet_start, sizeof(out->quiet_start), res, 5);
  copy(out->quiet_end, sizeof(out->quiet_end), res, 6);
  copy(out->quiet_tz, sizeof(out->quiet_tz), res, 7);
  copy(out->local_due, sizeof(out->local_due), res, 8);
  copy(out->due_utc, sizeof(out->due_utc), res, 9);
  PQclear(res);
  return H_OK;
}

h_result h_notif_repo_local_to_utc(PGconn *conn, const char *local, const char *zone,
                                   char out[32]) {
  const char *params[] = {local, zone};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "SELECT " H_SQL_TS("($1::timestamp AT TIME ZONE $2)"), 2, params,
                         &res);
  if (r == H_OK) {
    snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

/* Sets key of obj to s, or leaves it out (SQL NULL) when s is NULL. */
static void put_str(json_t *obj, const char *key, const char *s) {
  if (s != NULL) {
    json_object_set_new(obj, key, json_string(s));
  }
}

/* The rows as one JSON array for json_to_recordset (new string, caller frees). */
static char *notifications_json(const struct h_notification_row *rows, int n) {
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    const struct h_notification_row *r = &rows[i];
    json_t *o = json_object();
    put_str(o, "id", r->id);
    put_str(o, "user_id", r->user_id);
    put_str(o, "category", r->category);
    put_str(o, "priority", r->priority);
    put_str(o, "template_key", r->template_key);
    put_str(o, "title", r->title);
    put_str(o, "body", r->body);
    put_str(o, "html", r->html);
    put_str(o, "action_url", r->action_url);
    put_str(o, "send_at", r->send_at);
    put_str(o, "locale", r->locale);
    put_str(o, "broadcast_id", r->broadcast_id);
    /* (borrowed: set takes its own reference and changes nothing) */
    json_object_set_new(o, "data", r->data != NULL ? json_incref((json_t *)r->data)
                                                   : json_object());
    if (r->rendered != NULL) {
      json_object_set(o, "rendered", (json_t *)r->rendered);
    }
    json_object_set_new(o, "in_app", json_boolean(r->in_app));
    if (r->system) {
      json_object_set_new(o, "system", json_true());
    }
    json_array_append_new(arr, o);
  }
  char *text = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  return text;
}

/* The delivery rows as one JSON array for json_to_recordset (new string, caller frees). */
static char *deliveries_json(const struct h_delivery_row *rows, int n) {
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    json_t *o = json_object();
    put_str(o, "id", rows[i].id);
    put_str(o, "notification_id", rows[i].notification_id);
    put_str(o, "user_id", rows[i].user_id);
    put_str(o, "channel", rows[i].channel);
    put_str(o, "status", rows[i].status);
    put_str(o, "reason", rows[i].reason);
    put_str(o, "due_at", rows[i].due_at);
    json_array_append_new(arr, o);
  }
  char *json = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  return json;
}

/* The INSERT of notifications rows (json, see notifications_json); *inserted receives
 * how many went in, created_at now(). */
static h_result insert_notifications(PGconn *conn, const char *json, int *inserted,
                                     char created_at[32]) {
  const char *params[] = {json};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
      "WITH ins AS (INSERT INTO notifications (id, user_id, category, priority, template_key,"
      "   data, title, body, html, action_url, send_at, rendered, locale, in_app, broadcast_id)"
      " SELECT t.id, t.user_id, t.category, t.priority, t.template_key, t.data, t.title,"
      "   t.body, t.html, t.action_url, t.send_at, t.rendered, t.locale, t.in_app,"
      "   t.broadcast_id"
      " FROM json_to_recordset($1::json) AS t(id uuid, user_id uuid, category text,"
      "   priority text, template_key text, data jsonb, title text, body text, html text,"
      "   action_url text, send_at timestamptz, rendered jsonb, locale text, in_app bool,"
      "   broadcast_id uuid, system bool)"
      " JOIN users u ON u.id = t.user_id AND (u.status <> 'deleted' OR t.system IS TRUE)"
      " RETURNING 1)"
      " SELECT (SELECT count(*) FROM ins)::int, " H_SQL_TS("now()"),
      1, params, &res);
  if (r == H_OK) {
    *inserted = atoi(PQgetvalue(res, 0, 0));
    snprintf(created_at, 32, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_lock_feeds(PGconn *conn, const char *const *users, int n) {
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    json_array_append_new(arr, json_string(users[i]));
  }
  char *json = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  const char *params[] = {json};
  h_result r = h_db_exec(conn,
      "SELECT " H_NOTIF_FEED_LOCK("s.u") " FROM (SELECT DISTINCT value::uuid AS u"
      " FROM json_array_elements_text($1::json) ORDER BY 1) s",
      1, params, NULL);
  free(json);
  return r;
}

/* The feed locks of the rows' users (in-app rows only: the others never stream). */
static h_result lock_rows(PGconn *conn, const struct h_notification_row *rows, int n) {
  const char **users = h_malloc((size_t)(n > 0 ? n : 1) * sizeof(*users));
  int nu = 0;
  for (int i = 0; i < n; i++) {
    if (rows[i].in_app) {
      users[nu++] = rows[i].user_id;
    }
  }
  h_result r = nu > 0 ? h_notif_repo_lock_feeds(conn, users, nu) : H_OK;
  free(users);
  return r;
}

h_result h_notif_repo_insert(PGconn *conn, const struct h_notification_row *rows, int n,
                             const struct h_delivery_row *dels, int nd, int *inserted,
                             char created_at[32]) {
  h_result r = lock_rows(conn, rows, n);
  if (r != H_OK) {
    return r;
  }
  char *json = notifications_json(rows, n);
  r = insert_notifications(conn, json, inserted, created_at);
  free(json);
  if (r == H_OK && *inserted < n) {
    return H_ERR_NOT_FOUND; /* a recipient was deleted since it was read */
  }
  if (r != H_OK || nd == 0) {
    return r;
  }
  json = deliveries_json(dels, nd);
  const char *params[] = {json};
  r = h_db_exec(conn,
      "INSERT INTO deliveries (id, notification_id, user_id, channel, status, reason, due_at,"
      "   sent_at)"
      " SELECT t.id, t.notification_id, t.user_id, t.channel, t.status, t.reason,"
      "   COALESCE(t.due_at, now()), CASE WHEN t.status = 'sent' THEN now() END"
      " FROM json_to_recordset($1::json) AS t(id uuid, notification_id uuid, user_id uuid,"
      "   channel text, status text, reason text, due_at timestamptz)",
      1, params, NULL);
  free(json);
  return r;
}

h_result h_notif_repo_feed(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                           const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *unread = f->unread < 0 ? NULL : f->unread ? "t" : "f";
  const char *params[] = {user_id, unread, f->category, f->priority, page->starting_after, limit};
  return h_db_page(
      conn,
      "SELECT " FEED_COLUMNS " FROM notifications WHERE user_id = $1::uuid AND" FEED_WHERE
      "   AND ($2::bool IS NULL OR (read_at IS NULL) = $2::bool)"
      "   AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR priority = $4)"
      "   AND ($5::uuid IS NULL OR (created_at, id) <"
      "        (SELECT created_at, id FROM notifications WHERE id = $5::uuid))"
      " ORDER BY notifications.created_at DESC, notifications.id DESC LIMIT $6::int",
      6, params, page->limit, data, has_more);
}

h_result h_notif_repo_unread_count(PGconn *conn, const char *user_id, long *count) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT count(*) FROM notifications WHERE user_id = $1::uuid AND"
                         FEED_WHERE " AND read_at IS NULL",
                         1, params, &res);
  if (r == H_OK) {
    *count = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_get(PGconn *conn, const char *id, const char *user_id, json_t **out) {
  const char *params[] = {id, user_id};
  if (user_id == NULL) {
    return h_db_one(conn, "SELECT " ADMIN_COLUMNS " FROM notifications WHERE id = $1::uuid", 1,
                   params, out);
  }
  return h_db_one(conn,
                 "SELECT " FEED_COLUMNS " FROM notifications WHERE id = $1::uuid"
                 " AND user_id = $2::uuid AND" FEED_WHERE,
                 2, params, out);
}

h_result h_notif_repo_deliveries(PGconn *conn, const char *notification_id, json_t **out) {
  const char *params[] = {notification_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " DELIVERY_COLUMNS " FROM deliveries"
                         " WHERE notification_id = $1::uuid"
                         " ORDER BY deliveries.created_at, deliveries.channel",
                         1, params, &res);
  if (r == H_OK) {
    *out = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_set_read(PGconn *conn, const char *id, const char *user_id, bool read,
                               json_t **out) {
  const char *params[] = {id, user_id, read ? "t" : "f"};
  return h_db_one(conn,
                 "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$2::uuid") ")"
                 " UPDATE notifications SET read_at = CASE WHEN $3::bool"
                 "   THEN COALESCE(read_at, now()) END, " H_NOTIF_BUMP_SEQ
                 " FROM lk WHERE id = $1::uuid AND user_id = $2::uuid AND" FEED_WHERE
                 " RETURNING " FEED_COLUMNS,
                 3, params, out);
}

h_result h_notif_repo_read_all(PGconn *conn, const char *user_id, long *updated) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$1::uuid") ")"
                         " UPDATE notifications SET read_at = now(), " H_NOTIF_BUMP_SEQ
                         " FROM lk WHERE user_id = $1::uuid AND"
                         FEED_WHERE " AND read_at IS NULL",
                         1, params, &res);
  if (r == H_OK) {
    *updated = atol(PQcmdTuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_soft_delete(PGconn *conn, const char *id, const char *user_id) {
  const char *params[] = {id, user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$2::uuid") ")"
                         " UPDATE notifications SET deleted_at = now(), " H_NOTIF_BUMP_SEQ
                         " FROM lk WHERE id = $1::uuid AND user_id = $2::uuid AND" FEED_WHERE,
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

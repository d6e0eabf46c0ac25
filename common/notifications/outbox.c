/* outbox.c - system notifications and the after-commit push. */
#include "notifications/outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "notifications/notification_repo.h"
#include "core/log.h"

h_result h_outbox_email(PGconn *conn, const char *user_id, const char *category,
                        const char *template_key, const char *title, const char *body,
                        const json_t *data, char delivery_id[37]) {
  char id[37];
  if (h_uuid_v7(id) != H_OK || h_uuid_v7(delivery_id) != H_OK) {
    return H_ERR_INTERNAL;
  }
  struct h_notification_row row = {
    .id = id, .user_id = user_id, .category = category, .priority = "high",
    .template_key = template_key, .title = title, .body = body, .data = data, .system = true};
  struct h_delivery_row del = {.id = delivery_id, .notification_id = id, .user_id = user_id,
                               .channel = "email", .status = "queued"};
  int inserted = 0;
  char created_at[32];
  return h_notif_repo_insert(conn, &row, 1, &del, 1, NULL, &inserted, created_at, NULL);
}

void h_outbox_push(struct h_app *app, enum h_queue q, const char *const *ids, size_t n,
                   const char *request_id) {
  struct h_redis *r = NULL;
  h_result res = h_redis_acquire(app->redis, &r);
  if (res == H_OK) {
    res = h_queue_push(r, q, ids, n);
  }
  h_redis_release(app->redis, r);
  if (res != H_OK) {
    h_log(H_LOG_WARNING, NULL, request_id,
          "h_outbox_push: %zu %s job(s) not pushed (%s); the sweeper will push them", n,
          h_queue_name(q), h_result_name(res));
  }
}

h_result h_outbox_email_admins(PGconn *conn, const char *category, const char *template_key,
                               const char *title, const char *body, const json_t *data,
                               json_t *ids) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT id::text FROM users WHERE role = 'admin' AND status = 'active'"
                         " ORDER BY created_at",
                         0, NULL, &res);
  for (int i = 0; r == H_OK && i < PQntuples(res); i++) {
    char delivery[37];
    r = h_outbox_email(conn, PQgetvalue(res, i, 0), category, template_key, title, body, data,
                       delivery);
    if (r == H_OK) {
      json_array_append_new(ids, json_string(delivery));
    }
  }
  PQclear(res);
  return r;
}

void h_outbox_push_json(struct h_app *app, enum h_queue q, const json_t *ids,
                        const char *request_id) {
  size_t n = json_array_size(ids);
  if (n == 0) {
    return;
  }
  const char **list = h_calloc(n, sizeof(*list));
  for (size_t i = 0; i < n; i++) {
    list[i] = json_string_value(json_array_get(ids, i));
  }
  h_outbox_push(app, q, list, n, request_id);
  free(list);
}

h_result h_outbox_mark_sensitive(PGconn *conn, const char *delivery_id) {
  const char *params[] = {delivery_id};
  return h_db_exec(conn,
                   "UPDATE notifications SET sensitive = true"
                   " WHERE id = (SELECT notification_id FROM deliveries WHERE id = $1::uuid)",
                   1, params, NULL);
}

h_result h_outbox_clear_expired(PGconn *conn, int max_age_s, long *cleared) {
  char age[16];
  snprintf(age, sizeof(age), "%d", max_age_s);
  const char *params[] = {age};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE notifications SET body = NULL, html = NULL, action_url = NULL,"
                         " data = '{}'::jsonb WHERE sensitive AND body IS NOT NULL"
                         " AND created_at < now() - make_interval(secs => $1::int)",
                         1, params, &res);
  if (r == H_OK && cleared != NULL) {
    *cleared = atol(PQcmdTuples(res));
  }
  PQclear(res);
  return r;
}

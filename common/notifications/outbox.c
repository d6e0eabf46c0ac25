/* outbox.c - system notifications and the after-commit push. */
#include "notifications/outbox.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"
#include "core/log.h"

h_result h_outbox_email(PGconn *conn, const char *user_id, const char *category,
                        const char *template_key, const char *title, const char *body,
                        const json_t *data, char delivery_id[37]) {
  char *json = json_dumps(data, JSON_COMPACT);
  const char *params[] = {user_id, category, template_key, title, json, body};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "WITH n AS (INSERT INTO notifications (user_id, category, priority,"
                         "   template_key, title, data, body) VALUES ($1::uuid, $2, 'high', $3, $4,"
                         "   $5::jsonb, $6) RETURNING id, user_id)"
                         " INSERT INTO deliveries (notification_id, user_id, channel, status)"
                         " SELECT id, user_id, 'email', 'queued' FROM n RETURNING id",
                         6, params, &res);
  free(json);
  if (r == H_OK) {
    snprintf(delivery_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
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

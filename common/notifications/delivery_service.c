/* delivery_service.c - queue counts, delivery listing, stats and manual retries. */
#include "notifications/delivery_service.h"

#include <string.h>

#include "store/db.h"
#include "core/log.h"
#include "notifications/notification_service.h"
#include "queue/queue_stats.h"

h_result h_queue_overview(struct h_app *app, json_t **list) {
  struct h_redis *r = NULL;
  *list = NULL;
  h_result res = h_redis_acquire(app->redis, &r);
  json_t *data = json_array();
  for (int q = 0; res == H_OK && q < H_QUEUE_COUNT; q++) {
    struct h_queue_counts c;
    res = h_queue_counts(r, (enum h_queue)q, &c);
    if (res == H_OK) {
      json_array_append_new(data, json_pack("{sssssIsIsIsIsi}", "object", "queue", "name",
                                            h_queue_name((enum h_queue)q), "ready",
                                            (json_int_t)c.ready, "processing",
                                            (json_int_t)c.processing, "delayed",
                                            (json_int_t)c.delayed, "dead", (json_int_t)c.dead,
                                            "workers", c.workers));
    }
  }
  h_redis_release(app->redis, r);
  if (res == H_OK) {
    *list = h_list_body(data, false);
  } else {
    json_decref(data);
  }
  return res == H_OK ? H_OK : H_ERR_UNAVAILABLE;
}

struct op {
  const struct h_actor *actor;
  const struct h_delivery_filter *filter;
  const struct h_page *page;
  const char *id, *since;
  json_t *out;
  bool more;
};

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_delivery_repo_list(c, o->filter, o->page, &o->out, &o->more);
}

h_result h_delivery_list(struct h_app *app, const struct h_delivery_filter *f,
                         const struct h_page *page, json_t **data, bool *has_more) {
  struct op o = {.filter = f, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  return r;
}

static h_result stats_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_delivery_repo_stats(c, o->since, &o->out);
}

h_result h_delivery_stats(struct h_app *app, const char *since, json_t **stats) {
  struct op o = {.since = since};
  h_result r = h_db_run(app->db, stats_tx, &o);
  *stats = o.out;
  return r;
}

static h_result retry_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_delivery_repo_requeue(c, o->id, &o->out);
  return r == H_OK ? h_audit_write(c, o->actor, "delivery.retried", "delivery", o->id, NULL,
                                   false)
                   : r;
}

/* LREM from the dead-letter list (best effort; a stale id there is harmless). */
static void forget_dead_letter(struct h_app *app, enum h_queue q, const char *id) {
  struct h_redis *r = NULL;
  char key[64];
  h_queue_dlq_key(q, key, sizeof(key));
  const char *argv[] = {"LREM", key, "0", id};
  if (h_redis_acquire(app->redis, &r) == H_OK) {
    h_redis_argv(r, NULL, 4, argv);
  }
  h_redis_release(app->redis, r);
}

h_result h_delivery_retry(struct h_app *app, const struct h_actor *actor, const char *id,
                          json_t **delivery) {
  struct op o = {.actor = actor, .id = id};
  h_result r = h_db_tx(app->db, retry_tx, &o);
  if (r != H_OK) {
    json_decref(o.out);
    *delivery = NULL;
    return r;
  }
  int q = h_queue_parse(json_string_value(json_object_get(o.out, "channel")));
  if (q >= 0) {
    struct h_push_list push = {0};
    h_push_list_add(&push, (enum h_queue)q, id, 0);
    forget_dead_letter(app, (enum h_queue)q, id);
    h_notification_push(app, &push, actor->request_id);
    h_push_list_clear(&push);
  }
  *delivery = o.out;
  return H_OK;
}

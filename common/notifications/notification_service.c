/* notification_service.c - send and feed rules, transactions and the after-commit push. */
#include "notifications/notification_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"
#include "core/log.h"
#include "inbox/stream_bus.h"

struct op {
  const struct h_actor *actor;
  const struct h_notify_request *req;
  const struct h_idem *idem;
  struct h_notify_error *err;
  const struct h_feed_filter *filter;
  const struct h_page *page;
  const char *id, *user_id;
  bool flag;
  json_t *out;
  long count;
  struct h_push_list push;
};

void h_notification_push(struct h_app *app, const struct h_push_list *push,
                         const char *request_id) {
  if (push->n == 0) {
    return;
  }
  struct h_redis *r = NULL;
  if (h_redis_acquire(app->redis, &r) != H_OK) {
    h_log(H_LOG_WARNING, NULL, request_id,
          "%zu delivery id(s) not pushed: no Redis connection; the sweeper will push them",
          push->n);
    return;
  }
  h_push_list_send(r, push, request_id);
  h_redis_release(app->redis, r);
}

static h_result send_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_push_list_clear(&o->push);
  json_decref(o->out);
  o->out = NULL;
  h_result r = h_notify_in_tx(c, o->req, NULL, &o->out, &o->push, o->err);
  if (r == H_OK) {
    json_t *d = json_pack("{ssssss}", "user_id", o->req->user_id, "category", o->req->category,
                          "priority", o->req->priority);
    r = h_audit_write(c, o->actor, "notification.created", "notification",
                      json_string_value(json_object_get(o->out, "id")), d, false);
    json_decref(d);
  }
  return r == H_OK ? h_idem_complete(c, o->idem, H_OUTCOME_ACCEPTED, o->out) : r;
}

/* ---- group commit: the write of one POST waiting in the queue ---- */

struct send_item {
  struct h_gc_item gc;
  struct h_notify_prepared prep;
  const struct h_actor *actor;
  const struct h_idem *idem;
  struct h_notify_error *err;
};

/* Writes a batch of prepared sends in the open transaction: notifications, deliveries,
 * audit rows and idempotency records, one statement each. */
static h_result batch_write(PGconn *c, struct h_gc_item *const *items, int n, void *ctx) {
  (void)ctx;
  struct h_notify_prepared **preps = h_malloc((size_t)n * sizeof(*preps));
  struct h_audit_entry *audit = h_malloc((size_t)n * sizeof(*audit));
  const struct h_idem **idems = h_malloc((size_t)n * sizeof(*idems));
  const json_t **bodies = h_malloc((size_t)n * sizeof(*bodies));
  for (int i = 0; i < n; i++) {
    preps[i] = &((struct send_item *)items[i]->arg)->prep;
  }
  h_result r = h_notify_write(c, preps, n);
  for (int i = 0; i < n; i++) {
    struct send_item *it = items[i]->arg;
    const struct h_notify_request *req = it->prep.req;
    audit[i] = (struct h_audit_entry){it->actor, "notification.created", "notification",
                                      it->prep.id, NULL};
    audit[i].details = json_pack("{ssssss}", "user_id", req->user_id, "category",
                                 req->category, "priority", req->priority);
    idems[i] = it->idem;
    bodies[i] = it->prep.out;
  }
  if (r == H_OK) {
    r = h_audit_write_many(c, audit, n);
  }
  if (r == H_OK) {
    r = h_idem_complete_many(c, idems, H_OUTCOME_ACCEPTED, bodies, n);
  }
  for (int i = 0; i < n; i++) {
    json_decref((json_t *)audit[i].details);
  }
  free(preps);
  free(audit);
  free(idems);
  free(bodies);
  return r;
}

/* After COMMIT: the delivery ids of the whole batch in one push per queue. */
static void batch_push(struct h_gc_item *const *items, int n, void *ctx) {
  struct h_app *app = ctx;
  struct h_push_list all = {0};
  for (int i = 0; i < n; i++) {
    const struct h_push_list *l = &((struct send_item *)items[i]->arg)->prep.push;
    for (size_t j = 0; j < l->n; j++) {
      h_push_list_add(&all, l->items[j].queue, l->items[j].id, l->items[j].due);
    }
  }
  h_notification_push(app, &all, NULL);
  h_push_list_clear(&all);
  const char **users = h_malloc((size_t)n * sizeof(*users));
  size_t nu = 0;
  for (int i = 0; i < n; i++) {
    const struct h_notify_prepared *p = &((struct send_item *)items[i]->arg)->prep;
    if (p->in_app) {
      users[nu++] = p->req->user_id;
    }
  }
  h_stream_publish(app, H_STREAM_KIND_FEED, users, nu); /* the streams of these users */
  free(users);
}

static const struct h_gc_ops batch_ops = {batch_write, batch_push};

struct h_gc *h_notification_gc_create(struct h_app *app) {
  const struct h_config *cfg = app->cfg;
  if (!cfg->group_commit) {
    return NULL;
  }
  struct h_gc_options opt = {
    .db = {.url = cfg->database_url, .pool_size = 1,
           .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
           .connect_timeout_s = cfg->db_connect_timeout_s,
           .statement_timeout_ms = cfg->db_statement_timeout_ms,
           .application_name = "herald-api-commit",
           .prepared_statements = cfg->db_prepared_statements},
    .threads = cfg->group_commit_threads,
    .max_batch = cfg->group_commit_max_batch,
    .wait_us = cfg->group_commit_wait_us,
  };
  return h_gc_create(&opt, &batch_ops, app);
}

static h_result prepare_run(PGconn *c, void *a) {
  struct send_item *it = a;
  return h_notify_prepare(c, it->prep.req, NULL, &it->prep, it->err);
}

/* The reads on a pooled connection, then the write through the group commit. */
static h_result send_grouped(struct h_app *app, struct send_item *it, json_t **notification) {
  h_result r = h_db_run(app->db, prepare_run, it);
  if (r == H_OK) {
    it->gc.arg = it;
    r = h_gc_submit(app->notify_gc, &it->gc);
  }
  if (r == H_ERR_NOT_FOUND) { /* the recipient was deleted since it was read */
    snprintf(it->err->code, sizeof(it->err->code), "user_not_found");
    snprintf(it->err->param, sizeof(it->err->param), "user_id");
    snprintf(it->err->message, sizeof(it->err->message),
             "There is no user %s (or it was deleted).", it->prep.req->user_id);
    r = H_ERR_UNPROCESSABLE;
  }
  if (r == H_OK) {
    *notification = it->prep.out;
    it->prep.out = NULL;
  }
  h_notify_prepared_free(&it->prep);
  return r;
}

h_result h_notification_send(struct h_app *app, const struct h_actor *actor,
                             const struct h_notify_request *req, const struct h_idem *idem,
                             json_t **notification, struct h_notify_error *err) {
  *notification = NULL;
  if (app->notify_gc != NULL) {
    struct send_item it = {.actor = actor, .idem = idem, .err = err};
    it.prep.req = req;
    return send_grouped(app, &it, notification);
  }
  struct op o = {.actor = actor, .req = req, .idem = idem, .err = err};
  h_result r = h_db_tx(app->db, send_tx, &o);
  if (r == H_OK) {
    h_notification_push(app, &o.push, actor->request_id);
    h_stream_publish_one(app, H_STREAM_KIND_FEED, req->user_id);
  } else {
    json_decref(o.out);
    o.out = NULL;
  }
  h_push_list_clear(&o.push);
  *notification = o.out;
  return r;
}

static h_result feed_tx(PGconn *c, void *a) {
  struct op *o = a;
  json_t *data = NULL;
  bool more = false;
  h_result r = h_notif_repo_feed(c, o->user_id, o->filter, o->page, &data, &more);
  if (r == H_OK) {
    r = h_notif_repo_unread_count(c, o->user_id, &o->count);
  }
  if (r == H_OK) {
    o->out = h_list_body(data, more);
    json_object_set_new(o->out, "unread_count", json_integer(o->count));
  } else {
    json_decref(data);
  }
  return r;
}

h_result h_notification_feed(struct h_app *app, const char *user_id,
                             const struct h_feed_filter *filter, const struct h_page *page,
                             json_t **list) {
  struct op o = {.user_id = user_id, .filter = filter, .page = page};
  h_result r = h_db_run(app->db, feed_tx, &o);
  *list = o.out;
  return r;
}

static h_result unread_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_notif_repo_unread_count(c, o->user_id, &o->count);
}

h_result h_notification_unread_count(struct h_app *app, const char *user_id, long *count) {
  struct op o = {.user_id = user_id};
  h_result r = h_db_run(app->db, unread_tx, &o);
  *count = o.count;
  return r;
}

static h_result get_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_get(c, o->id, o->flag ? NULL : o->user_id, &o->out);
  json_t *deliveries = NULL;
  if (r == H_OK && o->flag) {
    r = h_notif_repo_deliveries(c, o->id, &deliveries);
    json_object_set_new(o->out, "deliveries", deliveries);
  }
  return r;
}

h_result h_notification_find(struct h_app *app, const char *id, const char *user_id, bool admin,
                             json_t **notification) {
  struct op o = {.id = id, .user_id = user_id, .flag = admin};
  return h_db_run_json(app->db, get_tx, &o, &o.out, notification);
}

static h_result mark_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_set_read(c, o->id, o->actor->id, o->flag, &o->out);
  const char *action = o->flag ? "notification.read" : "notification.unread";
  return r == H_OK ? h_audit_write(c, o->actor, action, "notification", o->id, NULL, false) : r;
}

h_result h_notification_mark(struct h_app *app, const struct h_actor *actor, const char *id,
                             bool read, json_t **notification) {
  struct op o = {.actor = actor, .id = id, .flag = read};
  h_result r = h_db_tx_json(app->db, mark_tx, &o, &o.out, notification);
  if (r == H_OK) {
    h_stream_publish_one(app, H_STREAM_KIND_FEED, actor->id);
  }
  return r;
}

static h_result read_all_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_read_all(c, o->actor->id, &o->count);
  if (r == H_OK && o->count > 0) {
    json_t *d = json_pack("{sI}", "updated", (json_int_t)o->count);
    r = h_audit_write(c, o->actor, "notification.read_all", "user", o->actor->id, d, false);
    json_decref(d);
  }
  return r;
}

h_result h_notification_read_all(struct h_app *app, const struct h_actor *actor, long *updated) {
  struct op o = {.actor = actor};
  h_result r = h_db_tx(app->db, read_all_tx, &o);
  *updated = o.count;
  if (r == H_OK && o.count > 0) {
    h_stream_publish_one(app, H_STREAM_KIND_FEED, actor->id);
  }
  return r;
}

static h_result delete_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_soft_delete(c, o->id, o->actor->id);
  return r == H_OK ? h_audit_write(c, o->actor, "notification.deleted", "notification", o->id,
                                   NULL, false)
                   : r;
}

h_result h_notification_remove(struct h_app *app, const struct h_actor *actor, const char *id) {
  struct op o = {.actor = actor, .id = id};
  h_result r = h_db_tx(app->db, delete_tx, &o);
  if (r == H_OK) {
    h_stream_publish_one(app, H_STREAM_KIND_FEED, actor->id);
  }
  return r;
}

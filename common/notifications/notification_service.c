/* notification_service.c - send and feed rules, transactions and the after-commit push. */
#include "notifications/notification_service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_text.h"
#include "store/db.h"
#include "core/log.h"
#include "inbox/stream_bus.h"
#include "templates/template_repo.h"

struct op {
  const struct h_flood_rules *flood;
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
  h_result r = h_notify_in_tx(c, o->req, NULL, o->flood, &o->out, &o->push, o->err);
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
  const struct h_notify_request *req;
  const struct h_flood_rules *flood; /* digests (borrowed) */
  struct h_notify_prepared prep;     /* made by the batch's prepare */
  bool ready;                        /* prep made, to be written */
  char now[40];                      /* the time of the recipients' read (the rows' created_at) */
  const struct h_actor *actor;
  const struct h_idem *idem;
  struct h_notify_error *err;
};

/* The details of a send's audit entry, as JSON text (the caller frees it): the same object
 * as send_tx's. */
static char *audit_details(const struct h_notify_request *req) {
  struct h_json_text w;
  h_jt_init(&w, 128);
  h_jt_open(&w, '{');
  h_jt_member(&w, "user_id", req->user_id);
  h_jt_member(&w, "category", req->category);
  h_jt_member(&w, "priority", req->priority);
  h_jt_close(&w, '}');
  return h_jt_take(&w);
}

/* True when a send of ready[0..n) has deferred key k too. */
static bool key_taken(struct send_item *const *ready, int n, const struct h_idem *k) {
  for (int i = 0; i < n; i++) {
    const struct h_idem *o = ready[i]->idem;
    if (o != NULL && o->deferred && strcmp(o->key, k->key) == 0 &&
        strcmp(o->caller, k->caller) == 0) {
      return true;
    }
  }
  return false;
}

/* Keeps the first send of each deferred key in ready (a statement claims a key once): the
 * others are refused as sends whose key is held, and see the first's record once it
 * committed. Returns how many are left. */
static int drop_repeated_keys(struct send_item **ready, int n) {
  int kept = 0;
  for (int i = 0; i < n; i++) {
    const struct h_idem *k = ready[i]->idem;
    if (k != NULL && k->deferred && key_taken(ready, kept, k)) {
      ready[i]->gc.result = H_ERR_CONFLICT;
    } else {
      ready[kept++] = ready[i];
    }
  }
  return kept;
}

/* What a batch's prepare leaves for its write: the sends to write, their audit entries
 * (logged once written) and the one statement, built on the preparing thread while the
 * batch before is written, so that the committer only sends it. */
struct batch_stmt {
  struct send_item **ready;    /* borrowed sends, owned array */
  int n;
  struct h_audit_entry *audit; /* one per send */
  char **details;              /* owned: their details */
  struct h_notif_stmt *stmt;
};

static void batch_release(void *batch, void *ctx) {
  (void)ctx;
  struct batch_stmt *b = batch;
  for (int i = 0; i < b->n; i++) {
    free(b->details[i]);
  }
  free(b->details);
  free(b->audit);
  free(b->ready);
  h_notif_stmt_free(b->stmt);
  free(b);
}

/* Builds the write of the prepared sends ready[0..n) (the array is taken): their responses
 * first, created at now (the rows get that very instant, so a notification read back shows
 * the created_at of its 202), then one statement with their audit rows and idempotency
 * records. */
static struct batch_stmt *batch_build(const struct h_config *cfg, struct send_item **ready,
                                      int n, const char *now) {
  struct batch_stmt *b = h_calloc(1, sizeof(*b));
  b->ready = ready;
  b->n = n;
  b->audit = h_malloc((size_t)n * sizeof(*b->audit));
  b->details = h_malloc((size_t)n * sizeof(*b->details));
  struct h_notify_prepared **preps = h_malloc((size_t)n * sizeof(*preps));
  const struct h_idem **idems = h_malloc((size_t)n * sizeof(*idems));
  unsigned int *status = h_malloc((size_t)n * sizeof(*status));
  const char **bodies = h_calloc((size_t)n, sizeof(*bodies));
  const char **ids = h_malloc((size_t)n * sizeof(*ids));
  struct h_notif_extra extra = {.audit = b->audit, .naudit = n, .idem = idems,
                                .idem_status = status, .idem_bodies = bodies,
                                .idem_notification = ids,
                                .idem_lock_s = cfg->idempotency_lock_s,
                                .idem_ttl_s = cfg->idempotency_ttl_s, .created_at = now};
  for (int i = 0; i < n; i++) {
    preps[i] = &ready[i]->prep;
  }
  char at[32]; /* now to the second, as responses show times */
  snprintf(at, sizeof(at), "%.19sZ", now);
  h_notify_respond(preps, n, at);
  for (int i = 0; i < n; i++) {
    const struct send_item *it = ready[i];
    b->details[i] = audit_details(it->req);
    b->audit[i] = (struct h_audit_entry){it->actor, "notification.created", "notification",
                                         it->prep.id, b->details[i], it->prep.audit_id};
    if (it->idem != NULL && it->idem->active) {
      idems[extra.nidem] = it->idem;
      status[extra.nidem] = it->idem->status[H_OUTCOME_ACCEPTED];
      ids[extra.nidem] = it->prep.id;
      bodies[extra.nidem++] = it->prep.out_text; /* the text stored is the text answered */
    }
  }
  b->stmt = h_notify_build(preps, n, &extra);
  free(preps);
  free(idems);
  free(status);
  free(bodies);
  free(ids);
  return b;
}

/* The write of a batch's prepared sends for its statement, built after its reads: the sends
 * prepared and not refused, the first of each deferred key. NULL when none is left. */
static struct batch_stmt *batch_plan(const struct h_config *cfg,
                                     struct h_gc_item *const *items, int n) {
  struct send_item **ready = h_malloc((size_t)n * sizeof(*ready));
  int nready = 0;
  for (int i = 0; i < n; i++) {
    struct send_item *it = items[i]->arg;
    if (it->ready && items[i]->result == H_OK) {
      ready[nready++] = it;
    }
  }
  nready = drop_repeated_keys(ready, nready);
  if (nready == 0) {
    free(ready);
    return NULL;
  }
  return batch_build(cfg, ready, nready, ready[0]->now);
}

/* Runs a batch's statement (its own transaction): the notifications, deliveries, audit rows
 * and idempotency records. A send whose recipient was deleted since the read is refused alone,
 * and so is a send whose deferred key another request holds (H_ERR_CONFLICT; the caller then
 * looks at the key, and a deleted recipient shows there as a key free to claim). */
static h_result batch_write(PGconn *c, struct h_gc_item *const *items, int n, void *batch,
                            void *ctx) {
  (void)items;
  (void)n;
  (void)ctx;
  struct batch_stmt *b = batch;
  if (b == NULL) {
    return H_OK; /* every send was refused by its prepare */
  }
  bool *written = h_malloc((size_t)b->n * sizeof(*written));
  char created_at[32];
  int inserted = 0;
  h_result r = h_notif_stmt_exec(c, b->stmt, &inserted, created_at, written);
  for (int i = 0; r == H_OK && i < b->n; i++) {
    struct send_item *it = b->ready[i];
    if (written[i]) {
      h_audit_log_events(&b->audit[i], 1);
    } else if (it->idem != NULL && it->idem->deferred) {
      it->gc.result = H_ERR_CONFLICT; /* its key is held (or its recipient deleted) */
    } else {
      it->gc.result = H_ERR_NOT_FOUND; /* deleted since the read */
    }
  }
  free(written);
  return r;
}

/* The templates a batch's sends name, each read once for the batch (a batch of sends of one
 * template read it once per send before). */
struct batch_templates {
  int n;
  const char **key; /* borrowed from the requests */
  json_t **tpl;     /* owned; NULL: none read (no such template, or the read failed) */
};

/* The template key for this batch (borrowed from t), read on first use; NULL when none was
 * read, and then the send reads it itself, which reports what went wrong (a 422 for an
 * unknown template). */
static const json_t *batch_template(PGconn *c, struct batch_templates *t, const char *key) {
  for (int i = 0; i < t->n; i++) {
    if (strcmp(t->key[i], key) == 0) {
      return t->tpl[i];
    }
  }
  json_t *tpl = NULL;
  if (h_template_repo_get(c, key, &tpl) != H_OK) {
    tpl = NULL;
  }
  t->key[t->n] = key;
  t->tpl[t->n++] = tpl;
  return tpl;
}

/* Prepares the sends of a batch (the engine's prepare) against their recipients, read in one
 * statement, and their templates, each read once; a send that cannot be made (unknown user or
 * template, missing variable) is refused alone. A prepared send is marked ready, with the
 * read's now() (to the microsecond) as its rows' created_at. */
static h_result batch_prepare(PGconn *c, struct h_gc_item *const *items, int n, void *ctx,
                              void **batch) {
  const struct h_app *app = ctx;
  char now[40] = "";
  const char **ids = h_malloc((size_t)n * sizeof(*ids));
  const char **dues = h_malloc((size_t)n * sizeof(*dues));
  const char **cats = h_malloc((size_t)n * sizeof(*cats));
  bool *devices = h_malloc((size_t)n * sizeof(*devices));
  struct h_recipient_row *rc = h_calloc((size_t)n, sizeof(*rc));
  struct batch_templates tpls = {0, h_malloc((size_t)n * sizeof(char *)),
                                 h_malloc((size_t)n * sizeof(json_t *))};
  for (int i = 0; i < n; i++) {
    struct send_item *it = items[i]->arg;
    it->ready = false;
    ids[i] = it->req->user_id;
    dues[i] = it->req->send_at;
    cats[i] = it->req->category;
    devices[i] = h_notify_needs_devices(it->req);
  }
  h_result r = h_notif_repo_recipients(c, ids, dues, cats, devices, n, rc, now);
  for (int i = 0; r == H_OK && i < n; i++) {
    struct send_item *it = items[i]->arg;
    h_notify_prepared_free(&it->prep);
    const json_t *tpl = rc[i].found && it->req->template_key != NULL
                            ? batch_template(c, &tpls, it->req->template_key) : NULL;
    h_result one = h_notify_prepare_for(c, it->req, tpl, it->flood, &rc[i], &it->prep,
                                        it->err);
    if (one == H_ERR_UNPROCESSABLE) {
      items[i]->result = one;
    } else if (one == H_OK) {
      it->ready = true;
      memcpy(it->now, now, sizeof(now));
    } else {
      r = one;
    }
  }
  for (int i = 0; i < n; i++) {
    json_decref(rc[i].prefs);
  }
  for (int i = 0; i < tpls.n; i++) {
    json_decref(tpls.tpl[i]);
  }
  free(tpls.key);
  free(tpls.tpl);
  free(ids);
  free(dues);
  free(cats);
  free(devices);
  free(rc);
  if (r == H_OK) {
    *batch = batch_plan(app->cfg, items, n);
  }
  return r;
}

/* The one step after a batch committed, before its requests are answered: items are the
 * committed sends, each with prep.id and prep.out_text (the created notification, as answered),
 * prep.push (its delivery ids to queue) and req. The delivery ids of the whole batch go out
 * in one push per queue, then the streams of the in-app recipients are told; whatever else
 * must follow the COMMIT of the created rows belongs here too. */
static void batch_committed(struct h_gc_item *const *items, int n, void *ctx) {
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

/* The recipients' read and the one write statement commit on their own (no BEGIN/COMMIT);
 * the read of the next batch runs while a batch is written. */
static const struct h_gc_ops batch_ops = {batch_write, batch_committed, true, batch_prepare,
                                          batch_release};

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
           .prepared_statements = cfg->db_prepared_statements, .batch_plans = true},
    .threads = cfg->group_commit_threads,
    .max_batch = cfg->group_commit_max_batch,
    .wait_us = cfg->group_commit_wait_us,
  };
  return h_gc_create(&opt, &batch_ops, app);
}

/* The outcome of a send the group commit answered: r as h_notification_send returns it,
 * the 202's text in *text; frees what the batch's prepare made. */
static h_result send_outcome(struct send_item *it, h_result r, char **text) {
  if (r == H_ERR_NOT_FOUND) { /* the recipient was deleted between the read and the write */
    snprintf(it->err->code, sizeof(it->err->code), "user_not_found");
    snprintf(it->err->param, sizeof(it->err->param), "user_id");
    snprintf(it->err->message, sizeof(it->err->message),
             "There is no user %s (or it was deleted).", it->req->user_id);
    r = H_ERR_UNPROCESSABLE;
  }
  if (r == H_OK) {
    *text = it->prep.out_text;
    it->prep.out_text = NULL;
  }
  h_notify_prepared_free(&it->prep);
  return r;
}

/* The reads and the write in the group commit's transaction. */
static h_result send_grouped(struct h_app *app, struct send_item *it, char **text) {
  it->gc.arg = it;
  return send_outcome(it, h_gc_submit(app->notify_gc, &it->gc), text);
}

struct h_notification_send {
  struct send_item it;
  void (*done)(void *arg);
  void *arg;
};

static void send_done(struct h_gc_item *item) {
  struct h_notification_send *s =
      (struct h_notification_send *)(void *)((char *)item - offsetof(struct h_notification_send, it.gc));
  s->done(s->arg);
}

struct h_notification_send *h_notification_send_begin(struct h_app *app,
                                                      const struct h_actor *actor,
                                                      const struct h_notify_request *req,
                                                      const struct h_idem *idem,
                                                      struct h_notify_error *err,
                                                      void (*done)(void *arg), void *arg) {
  if (app->notify_gc == NULL) {
    return NULL;
  }
  struct h_notification_send *s = h_calloc(1, sizeof(*s));
  s->it = (struct send_item){.req = req, .flood = &app->flood, .actor = actor, .idem = idem,
                             .err = err};
  s->it.gc.arg = &s->it; /* what the batch's ops read */
  s->it.gc.on_done = send_done;
  s->done = done;
  s->arg = arg;
  if (h_gc_submit_async(app->notify_gc, &s->it.gc) != H_OK) {
    free(s);
    return NULL;
  }
  return s;
}

h_result h_notification_send_end(struct h_notification_send *s, char **text) {
  *text = NULL;
  h_result r = send_outcome(&s->it, s->it.gc.result, text);
  free(s);
  return r;
}

bool h_notification_defers_keys(const struct h_app *app) { return app->notify_gc != NULL; }

h_result h_notification_send(struct h_app *app, const struct h_actor *actor,
                             const struct h_notify_request *req, const struct h_idem *idem,
                             char **text, struct h_notify_error *err) {
  *text = NULL;
  if (app->notify_gc != NULL) {
    struct send_item it = {.req = req, .flood = &app->flood, .actor = actor, .idem = idem,
                           .err = err};
    return send_grouped(app, &it, text);
  }
  struct op o = {.actor = actor, .req = req, .idem = idem, .err = err, .flood = &app->flood};
  h_result r = h_db_tx(app->db, send_tx, &o);
  if (r == H_OK) {
    h_notification_push(app, &o.push, actor->request_id);
    h_stream_publish_one(app, H_STREAM_KIND_FEED, req->user_id);
    *text = json_dumps(o.out, JSON_COMPACT);
  }
  json_decref(o.out);
  h_push_list_clear(&o.push);
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

static h_result archive_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_set_archived(c, o->id, o->actor->id, o->flag, &o->out);
  const char *action = o->flag ? "notification.archived" : "notification.unarchived";
  return r == H_OK ? h_audit_write(c, o->actor, action, "notification", o->id, NULL, false) : r;
}

h_result h_notification_archive(struct h_app *app, const struct h_actor *actor, const char *id,
                                bool archive, json_t **notification) {
  struct op o = {.actor = actor, .id = id, .flag = archive};
  h_result r = h_db_tx_json(app->db, archive_tx, &o, &o.out, notification);
  if (r == H_OK) {
    h_stream_publish_one(app, H_STREAM_KIND_FEED, actor->id);
  }
  return r;
}

static h_result clear_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_notif_repo_clear(c, o->actor->id, &o->count);
  if (r == H_OK && o->count > 0) {
    json_t *d = json_pack("{sI}", "cleared", (json_int_t)o->count);
    r = h_audit_write(c, o->actor, "notification.cleared", "user", o->actor->id, d, false);
    json_decref(d);
  }
  return r;
}

h_result h_notification_clear(struct h_app *app, const struct h_actor *actor, long *cleared) {
  struct op o = {.actor = actor};
  h_result r = h_db_tx(app->db, clear_tx, &o);
  *cleared = o.count;
  if (r == H_OK && o.count > 0) {
    h_stream_publish_one(app, H_STREAM_KIND_FEED, actor->id);
  }
  return r;
}

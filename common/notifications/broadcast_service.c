/* broadcast_service.c - creating and reading broadcasts. */
#include "notifications/broadcast_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "inbox/stream_bus.h"
#include "store/db.h"
#include "notifications/delivery_plan.h"
#include "notifications/notification_input.h"

json_t *h_broadcast_request_json(const struct h_notify_request *req) {
  json_t *j = json_pack("{ssss}", "category", req->category, "priority", req->priority);
  if (req->channels != 0) {
    json_t *channels = json_array();
    for (int c = 0; c < H_CHANNEL_COUNT; c++) {
      if (req->channels & H_CHANNEL_BIT(c)) {
        json_array_append_new(channels, json_string(h_channel_name((enum h_channel)c)));
      }
    }
    json_object_set_new(j, "channels", channels);
  }
  const char *keys[] = {"template", "title", "body", "action_url"};
  const char *values[] = {req->template_key, req->title, req->body, req->action_url};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (values[i] != NULL) {
      json_object_set_new(j, keys[i], json_string(values[i]));
    }
  }
  if (req->data != NULL) {
    json_object_set(j, "data", (json_t *)req->data);
  }
  if (req->push != NULL) {
    json_object_set(j, "push", (json_t *)req->push);
  }
  return j;
}

bool h_broadcast_request_read(const json_t *stored, struct h_notify_request *req) {
  memset(req, 0, sizeof(*req));
  req->category = json_string_value(json_object_get(stored, "category"));
  req->priority = json_string_value(json_object_get(stored, "priority"));
  req->template_key = json_string_value(json_object_get(stored, "template"));
  req->title = json_string_value(json_object_get(stored, "title"));
  req->body = json_string_value(json_object_get(stored, "body"));
  req->action_url = json_string_value(json_object_get(stored, "action_url"));
  json_t *data = json_object_get(stored, "data");
  req->data = json_is_object(data) ? data : NULL;
  json_t *push = json_object_get(stored, "push");
  req->push = json_is_object(push) ? push : NULL;
  size_t i;
  json_t *c;
  bool channels_ok = true;
  json_array_foreach(json_object_get(stored, "channels"), i, c) {
    int ch = h_channel_parse(json_string_value(c));
    channels_ok = channels_ok && ch >= 0;
    req->channels |= ch >= 0 ? H_CHANNEL_BIT(ch) : 0;
  }
  /* What h_broadcast_request_json always writes; a row written some other way may lack it. */
  return h_category_valid(req->category) && h_priority_valid(req->priority) &&
         (req->template_key != NULL || req->body != NULL) && channels_ok;
}

struct op {
  const struct h_actor *actor;
  const struct h_broadcast_input *in;
  const struct h_idem *idem;
  const struct h_page *page;
  struct h_notify_error *err;
  const char *id, *kind;
  const json_t *patch;
  json_t *out;
  json_t *users; /* withdraw, update: the feeds that changed (owned) */
  bool more;
};

/* Refuses a template that is unknown or misses a variable before anything is queued. */
static h_result check_template(PGconn *c, const struct h_notify_request *req,
                               struct h_notify_error *err) {
  json_t *tpl = NULL;
  h_result r = h_notify_load_template(c, req->template_key, &tpl, err);
  if (r == H_OK) {
    r = h_notify_check_template(tpl, req->data, err);
  }
  json_decref(tpl);
  return r;
}

static h_result create_tx(PGconn *c, void *a) {
  struct op *o = a;
  const struct h_broadcast_input *in = o->in;
  h_result r = in->req.template_key != NULL ? check_template(c, &in->req, o->err) : H_OK;
  json_t *request = h_broadcast_request_json(&in->req);
  struct h_broadcast_row row = {in->kind, in->target, in->user_ids, request, in->req.send_at,
                                o->actor->id, o->actor->type, in->locales, in->topics};
  if (r == H_OK) {
    r = h_broadcast_repo_insert(c, &row, &o->out);
  }
  json_decref(request);
  if (r == H_OK) {
    json_t *d = json_pack("{sssI}", "target", in->target, "recipients",
                          json_integer_value(json_object_get(o->out, "recipients")));
    r = h_audit_write(c, o->actor,
                      strcmp(in->kind, "bulk") == 0 ? "notification_batch.created"
                                                    : "announcement.created",
                      "broadcast", json_string_value(json_object_get(o->out, "id")), d, false);
    json_decref(d);
  }
  return r == H_OK ? h_idem_complete(c, o->idem, H_OUTCOME_ACCEPTED, o->out) : r;
}

h_result h_broadcast_create(struct h_app *app, const struct h_actor *actor,
                            const struct h_broadcast_input *in, const struct h_idem *idem,
                            json_t **broadcast, struct h_notify_error *err) {
  struct op o = {.actor = actor, .in = in, .idem = idem, .err = err};
  return h_db_tx_json(app->db, create_tx, &o, &o.out, broadcast);
}

static h_result find_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_broadcast_repo_get(c, o->id, o->kind, &o->out);
}

h_result h_broadcast_find(struct h_app *app, const char *id, const char *kind,
                          json_t **broadcast) {
  struct op o = {.id = id, .kind = kind};
  h_result r = h_db_run(app->db, find_tx, &o);
  *broadcast = o.out;
  return r;
}

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_broadcast_repo_list(c, o->kind, o->page, &o->out, &o->more);
}

h_result h_broadcast_list(struct h_app *app, const char *kind, const struct h_page *page,
                          json_t **data, bool *has_more) {
  struct op o = {.kind = kind, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  return r;
}

/* Fills err (a 409 or 422 reason) and returns r. */
static h_result refuse(struct h_notify_error *err, h_result r, const char *code,
                       const char *message) {
  snprintf(err->code, sizeof(err->code), "%s", code);
  snprintf(err->message, sizeof(err->message), "%s", message);
  err->param[0] = '\0';
  return r;
}

/* After COMMIT (r == H_OK): tells the streams of users (an array, freed here) that their
 * feeds changed. */
static void publish(struct h_app *app, h_result r, json_t *users) {
  size_t n = json_array_size(users);
  if (r == H_OK && n > 0) {
    const char **ids = h_malloc(n * sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
      ids[i] = json_string_value(json_array_get(users, i));
    }
    h_stream_publish(app, H_STREAM_KIND_FEED, ids, n);
    free(ids);
  }
  json_decref(users);
}

static h_result withdraw_tx(PGconn *c, void *a) {
  struct op *o = a;
  json_decref(o->users); /* a retried transaction starts over */
  o->users = NULL;
  json_t *locked = NULL;
  h_result r = h_broadcast_repo_lock(c, o->id, "announcement", &locked);
  const char *status = json_string_value(json_object_get(locked, "status"));
  if (r == H_OK && status != NULL && strcmp(status, "withdrawn") == 0) {
    r = refuse(o->err, H_ERR_CONFLICT, "announcement_withdrawn", "It is already withdrawn.");
  }
  json_decref(locked);
  long removed = 0, cancelled = 0;
  if (r == H_OK) {
    r = h_broadcast_repo_withdraw(c, o->id, &removed, &cancelled, &o->users, &o->out);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{sIsI}", "removed_in_app", (json_int_t)removed,
                          "cancelled_deliveries", (json_int_t)cancelled);
    r = h_audit_write(c, o->actor, "announcement.withdrawn", "broadcast", o->id, d, false);
    json_decref(d);
  }
  return r;
}

h_result h_broadcast_withdraw(struct h_app *app, const struct h_actor *actor, const char *id,
                              json_t **announcement, struct h_notify_error *err) {
  struct op o = {.actor = actor, .id = id, .err = err};
  h_result r = h_db_tx_json(app->db, withdraw_tx, &o, &o.out, announcement);
  publish(app, r, o.users);
  return r;
}

/* The stored request with patch's members (title, body, action_url, data; null removes
 * one) laid over it (new reference). */
static json_t *patched(const json_t *stored, const json_t *patch) {
  json_t *req = json_deep_copy(stored);
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)patch, key, value) {
    if (json_is_null(value)) {
      json_object_del(req, key);
    } else {
      json_object_set(req, key, value);
    }
  }
  return req;
}

static h_result update_tx(PGconn *c, void *a) {
  struct op *o = a;
  json_decref(o->users); /* a retried transaction starts over */
  o->users = NULL;
  json_t *locked = NULL;
  h_result r = h_broadcast_repo_lock(c, o->id, "announcement", &locked);
  const char *status = json_string_value(json_object_get(locked, "status"));
  if (r == H_OK && status != NULL && strcmp(status, "withdrawn") == 0) {
    r = refuse(o->err, H_ERR_CONFLICT, "announcement_withdrawn",
               "A withdrawn announcement cannot change.");
  } else if (r == H_OK && json_object_get(locked, "template") != NULL &&
             !json_is_null(json_object_get(locked, "template"))) {
    r = refuse(o->err, H_ERR_UNPROCESSABLE, "template_announcement",
               "Its content comes from a template; change the template instead.");
  }
  long updated = 0;
  if (r == H_OK) {
    json_t *req = patched(json_object_get(locked, "stored"), o->patch);
    r = h_broadcast_repo_update(c, o->id, req, &updated, &o->users, &o->out);
    json_decref(req);
  }
  json_decref(locked);
  if (r == H_OK) {
    json_t *d = json_pack("{sI}", "updated_copies", (json_int_t)updated);
    r = h_audit_write(c, o->actor, "announcement.updated", "broadcast", o->id, d, false);
    json_decref(d);
  }
  return r;
}

h_result h_broadcast_update(struct h_app *app, const struct h_actor *actor, const char *id,
                            const json_t *patch, json_t **announcement,
                            struct h_notify_error *err) {
  struct op o = {.actor = actor, .id = id, .patch = patch, .err = err};
  h_result r = h_db_tx_json(app->db, update_tx, &o, &o.out, announcement);
  publish(app, r, o.users);
  return r;
}

/* notify.c - notifications and their deliveries, prepared and written in the caller's
 * transaction. */
#include "notifications/notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/json_text.h"
#include "core/text.h"
#include "crypto/crypto.h"
#include "notifications/delivery_plan.h"
#include "notifications/notification_repo.h"
#include "notifications/quiet_hours.h"
#include "templates/template.h"
#include "templates/template_repo.h"

static void set_err(struct h_notify_error *err, const char *code, const char *param,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_err(struct h_notify_error *err, const char *code, const char *param,
                    const char *fmt, ...) {
  h_copy(err->code, sizeof(err->code), code);
  h_copy(err->param, sizeof(err->param), param);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

h_result h_notify_load_template(PGconn *conn, const char *key, json_t **tpl,
                                struct h_notify_error *err) {
  h_result r = h_template_repo_get(conn, key, tpl);
  if (r == H_ERR_NOT_FOUND) {
    set_err(err, "template_not_found", "template", "There is no template '%.64s'.", key);
    return H_ERR_UNPROCESSABLE;
  }
  return r;
}

static h_result render_error(const struct h_template_error *te, struct h_notify_error *err) {
  set_err(err, te->code == H_ERR_UNPROCESSABLE ? "missing_variable" : "invalid_template",
          te->param, "%s", te->message);
  return H_ERR_UNPROCESSABLE;
}

h_result h_notify_check_template(const json_t *tpl, const json_t *data,
                                 struct h_notify_error *err) {
  const json_t *channels = json_object_get(tpl, "channels");
  const json_t *locales = json_object_get(tpl, "locales");
  struct h_template_error te;
  json_t *out = NULL;
  if (h_template_render_channels(channels, data, &out, &te) != H_OK) {
    return render_error(&te, err);
  }
  json_decref(out);
  const char *locale, *used;
  json_t *variant;
  json_object_foreach((json_t *)locales, locale, variant) {
    json_t *content = h_template_localize(channels, locales, locale, &used);
    h_result r = h_template_render_channels(content, data, &out, &te);
    json_decref(content);
    json_decref(out);
    if (r != H_OK) {
      return render_error(&te, err);
    }
  }
  return H_OK;
}

/* A string member of channel ch of content, or NULL. Borrowed. */
static const char *part(const json_t *content, const char *ch, const char *field) {
  return json_string_value(json_object_get(json_object_get(content, ch), field));
}

/* Sets field of channel ch (created if needed) unless value is NULL. */
static void put(json_t *content, const char *ch, const char *field, const char *value) {
  if (value == NULL) {
    return;
  }
  json_t *obj = json_object_get(content, ch);
  if (obj == NULL) {
    obj = json_object();
    json_object_set_new(content, ch, obj);
  }
  json_object_set_new(obj, field, json_string(value));
}

/* Gives every channel content: a channel the template leaves out gets the generic
 * title/body (taken from the in-app, push, SMS or e-mail parts, in that order). */
static void complete_content(json_t *c, const char *category) {
  const char *title = part(c, "in_app", "title");
  title = title != NULL ? title : part(c, "push", "title");
  title = title != NULL ? title : part(c, "email", "subject");
  const char *body = part(c, "in_app", "body");
  body = body != NULL ? body : part(c, "push", "body");
  body = body != NULL ? body : part(c, "sms", "text");
  body = body != NULL ? body : part(c, "email", "text");
  body = body != NULL ? body : "";
  /* Copies first: put() may move the strings these point into. */
  char *t = h_strdup(title), *b = h_strdup(body);
  if (json_object_get(c, "in_app") == NULL) {
    put(c, "in_app", "title", t);
    put(c, "in_app", "body", b);
  }
  if (json_object_get(c, "push") == NULL) {
    put(c, "push", "title", t);
    put(c, "push", "body", b);
  }
  if (json_object_get(c, "sms") == NULL) {
    put(c, "sms", "text", b);
  }
  if (json_object_get(c, "email") == NULL) {
    put(c, "email", "subject", t != NULL ? t : category);
    put(c, "email", "text", b);
  }
  free(t);
  free(b);
}

/* The rendered content of req for locale: *rendered (new reference); *used_locale the
 * template variant used (borrowed from tpl) or NULL. */
static h_result build_content(const struct h_notify_request *req, const json_t *tpl,
                              const char *locale, json_t **rendered, const char **used_locale,
                              struct h_notify_error *err) {
  *used_locale = NULL;
  if (tpl == NULL) {
    *rendered = json_object();
    put(*rendered, "in_app", "title", req->title);
    put(*rendered, "in_app", "body", req->body);
  } else {
    json_t *content = h_template_localize(json_object_get(tpl, "channels"),
                                          json_object_get(tpl, "locales"), locale, used_locale);
    struct h_template_error te;
    h_result r = h_template_render_channels(content, req->data, rendered, &te);
    json_decref(content);
    if (r != H_OK) {
      return render_error(&te, err);
    }
  }
  complete_content(*rendered, req->category);
  return H_OK;
}

/* Delays the quiet-hours candidates of plan when their due time falls inside the
 * recipient's quiet hours; until receives the end of the window (UTC). */
static h_result apply_quiet_hours(PGconn *conn, const struct h_recipient_row *rc,
                                  struct h_planned_delivery *plan, int n, char until[32]) {
  int start, end;
  struct h_local_time due, stop;
  until[0] = '\0';
  if (!rc->quiet_enabled || !h_quiet_parse_hhmm(rc->quiet_start, &start) ||
      !h_quiet_parse_hhmm(rc->quiet_end, &end) || !h_quiet_parse_local(rc->local_due, &due) ||
      !h_quiet_until(start, end, &due, &stop)) {
    return H_OK;
  }
  char local[24];
  h_quiet_format_local(&stop, local, sizeof(local));
  h_result r = h_notif_repo_local_to_utc(conn, local, rc->quiet_tz, until);
  for (int i = 0; r == H_OK && i < n; i++) {
    if (plan[i].quiet_candidate) {
      plan[i].status = "scheduled";
      plan[i].reason = "quiet_hours";
    }
  }
  return r;
}

/* Unix seconds of an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ" (0 if malformed). */
static double epoch_of(const char *ts) {
  struct tm tm = {0};
  if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (double)timegm(&tm);
}

/* Appends one delivery of plan d to p with a new id; endpoint may be NULL. */
static h_result add_delivery(struct h_notify_prepared *p, const struct h_planned_delivery *d,
                             const char *due_at, const char *endpoint) {
  int i = p->n++;
  p->d[i].channel = h_channel_name(d->channel);
  p->d[i].status = d->status;
  p->d[i].reason = d->reason;
  h_copy(p->d[i].due_at, sizeof(p->d[i].due_at), due_at);
  h_copy(p->d[i].endpoint_id, sizeof(p->d[i].endpoint_id), endpoint != NULL ? endpoint : "");
  return h_uuid_v7(p->d[i].id) == H_OK ? H_OK : H_ERR_INTERNAL;
}

/* Fills the plan of p: one delivery per planned channel (per endpoint for webhook), with
 * new ids. until: end of the quiet hours ("" if none), due_utc: the normalised send_at. */
static h_result fill_deliveries(struct h_notify_prepared *p, const struct h_planned_delivery *plan,
                                int n, const char *until, const char *due_utc,
                                const struct h_recipient_row *rc) {
  p->n = 0;
  h_result r = H_OK;
  for (int i = 0; r == H_OK && i < n; i++) {
    bool quiet = plan[i].reason != NULL && strcmp(plan[i].reason, "quiet_hours") == 0;
    const char *due = quiet ? until : strcmp(plan[i].status, "scheduled") == 0 ? due_utc : "";
    bool per_endpoint = plan[i].channel == H_CHANNEL_WEBHOOK &&
                        strcmp(plan[i].status, "skipped") != 0;
    for (int e = 0; r == H_OK && per_endpoint && e < rc->nendpoints; e++) {
      r = add_delivery(p, &plan[i], due, rc->endpoints[e]);
    }
    if (r == H_OK && !per_endpoint) {
      r = add_delivery(p, &plan[i], due, NULL);
    }
  }
  if (r == H_OK) {
    r = h_uuid_v7(p->id);
  }
  return r == H_OK ? h_uuid_v7(p->audit_id) : r;
}

/* E-mail and push deliveries of a category with a digest window wait for its digest
 * (not scheduled sends, nor critical or exempt ones: h_flood_digest_window). */
static void apply_digest(const struct h_flood_rules *flood, const struct h_notify_request *req,
                         struct h_planned_delivery *plan, int n) {
  if (req->send_at != NULL || h_flood_digest_window(flood, req->category, req->priority) <= 0) {
    return;
  }
  for (int i = 0; i < n; i++) {
    if ((plan[i].channel == H_CHANNEL_EMAIL || plan[i].channel == H_CHANNEL_PUSH) &&
        strcmp(plan[i].status, "queued") == 0) {
      plan[i].status = "digest";
      plan[i].reason = "digest";
    }
  }
}

/* Everything after the recipient is known: content, plan, quiet hours, digests. */
static h_result prepare_content(PGconn *conn, struct h_notify_prepared *p, const json_t *tpl,
                                const struct h_flood_rules *flood,
                                const struct h_recipient_row *rc, struct h_notify_error *err) {
  const struct h_notify_request *req = p->req;
  const char *used_locale = NULL;
  h_result r = build_content(req, tpl, rc->locale, &p->rendered, &used_locale, err);
  if (r != H_OK) {
    return r;
  }
  h_copy(p->locale, sizeof(p->locale), used_locale != NULL ? used_locale : "");
  h_copy(p->send_at, sizeof(p->send_at), req->send_at != NULL ? rc->due_utc : "");
  struct h_recipient facts = {.has_phone = rc->has_phone, .active_devices = rc->active_devices,
                              .webhook_endpoints = rc->nendpoints, .prefs = rc->prefs};
  struct h_planned_delivery plan[H_CHANNEL_COUNT];
  unsigned mask = req->channels != 0 ? req->channels : h_plan_default_channels(&facts);
  int n = h_plan_deliveries(mask, req->send_at != NULL, strcmp(req->priority, "critical") == 0,
                            req->category, &facts, plan);
  char until[32];
  r = apply_quiet_hours(conn, rc, plan, n, until);
  apply_digest(flood, req, plan, n);
  p->in_app = (mask & H_CHANNEL_BIT(H_CHANNEL_IN_APP)) != 0 &&
              strcmp(plan[0].status, "skipped") != 0;
  return r == H_OK ? fill_deliveries(p, plan, n, until, p->send_at, rc) : r;
}

h_result h_notify_prepare_for(PGconn *conn, const struct h_notify_request *req,
                              const json_t *tpl, const struct h_flood_rules *flood,
                              const struct h_recipient_row *rc, struct h_notify_prepared *p,
                              struct h_notify_error *err) {
  memset(p, 0, sizeof(*p));
  p->req = req;
  if (!rc->found) {
    set_err(err, "user_not_found", "user_id", "There is no user %s (or it was deleted).",
            req->user_id);
    return H_ERR_UNPROCESSABLE;
  }
  json_t *loaded = NULL;
  h_result r = H_OK;
  if (req->template_key != NULL && tpl == NULL) {
    r = h_notify_load_template(conn, req->template_key, &loaded, err);
    tpl = loaded;
  }
  if (r == H_OK) {
    r = prepare_content(conn, p, tpl, flood, rc, err);
  }
  json_decref(loaded);
  return r;
}

bool h_notify_needs_devices(const struct h_notify_request *req) {
  return req->channels == 0 || (req->channels & H_CHANNEL_BIT(H_CHANNEL_PUSH)) != 0;
}

h_result h_notify_prepare(PGconn *conn, const struct h_notify_request *req, const json_t *tpl,
                          const struct h_flood_rules *flood, struct h_notify_prepared *p,
                          struct h_notify_error *err) {
  struct h_recipient_row rc;
  bool devices = h_notify_needs_devices(req);
  h_result r = h_notif_repo_recipients(conn, &req->user_id, &req->send_at, &req->category,
                                       &devices, 1, &rc, NULL);
  if (r != H_OK) {
    memset(p, 0, sizeof(*p));
    p->req = req;
    return r;
  }
  r = h_notify_prepare_for(conn, req, tpl, flood, &rc, p, err);
  json_decref(rc.prefs);
  return r;
}

void h_notify_prepared_free(struct h_notify_prepared *p) {
  json_decref(p->rendered);
  free(p->out_text);
  h_push_list_clear(&p->push);
  p->rendered = NULL;
  p->out_text = NULL;
}

/* The response's deliveries array into w; fills p->push. created_at: the transaction's
 * now(). */
static void deliveries_out(struct h_notify_prepared *p, const char *created_at,
                           struct h_json_text *w) {
  h_jt_open(w, '[');
  for (int i = 0; i < p->n; i++) {
    const char *status = p->d[i].status;
    const char *due = p->d[i].due_at[0] != '\0' ? p->d[i].due_at : created_at;
    int q = h_queue_parse(p->d[i].channel);
    if (q >= 0 && strcmp(status, "queued") == 0) {
      h_push_list_add(&p->push, (enum h_queue)q, p->d[i].id, 0);
    } else if (q >= 0 && strcmp(status, "scheduled") == 0) {
      h_push_list_add(&p->push, (enum h_queue)q, p->d[i].id, epoch_of(due));
    }
    h_jt_open(w, '{');
    h_jt_member(w, "id", p->d[i].id);
    h_jt_member(w, "object", "delivery");
    h_jt_member(w, "channel", p->d[i].channel);
    h_jt_member(w, "status", status);
    if (p->d[i].reason != NULL) {
      h_jt_member(w, "reason", p->d[i].reason);
    }
    h_jt_member(w, "due_at", due);
    if (p->d[i].endpoint_id[0] != '\0') {
      h_jt_member(w, "endpoint_id", p->d[i].endpoint_id);
    }
    h_jt_close(w, '}');
  }
  h_jt_close(w, ']');
}

/* Prints p->out_text, the response object (written as text: no jansson tree on the POST's
 * path), and fills p->push. */
static void respond(struct h_notify_prepared *p, const char *created_at) {
  const struct h_notify_request *req = p->req;
  free(p->out_text);
  h_push_list_clear(&p->push);
  bool any_scheduled = false;
  int active = 0;
  for (int i = 0; i < p->n; i++) {
    any_scheduled |= strcmp(p->d[i].status, "scheduled") == 0;
    active += strcmp(p->d[i].status, "queued") == 0 || strcmp(p->d[i].status, "sent") == 0;
  }
  struct h_json_text w;
  h_jt_init(&w, 512 + 256 * (size_t)p->n);
  h_jt_open(&w, '{');
  h_jt_member(&w, "id", p->id);
  h_jt_member(&w, "object", "notification");
  h_jt_member(&w, "status", active == 0 && any_scheduled ? "scheduled" : "queued");
  h_jt_member(&w, "user_id", req->user_id);
  h_jt_member(&w, "category", req->category);
  h_jt_member(&w, "priority", req->priority);
  h_jt_member(&w, "template", req->template_key);
  h_jt_member(&w, "send_at", p->send_at[0] != '\0' ? p->send_at : NULL);
  h_jt_member(&w, "created_at", created_at);
  if (req->broadcast_id != NULL) {
    h_jt_member(&w, "broadcast_id", req->broadcast_id);
  }
  h_jt_key(&w, "deliveries");
  deliveries_out(p, created_at, &w);
  h_jt_close(&w, '}');
  p->out_text = h_jt_take(&w);
}

/* The notification row of p (pointers into p and p->req). */
static struct h_notification_row row_of(const struct h_notify_prepared *p) {
  const struct h_notify_request *req = p->req;
  struct h_notification_row row = {
    .id = p->id, .user_id = req->user_id, .category = req->category,
    .priority = req->priority, .template_key = req->template_key,
    .locale = p->locale[0] != '\0' ? p->locale : NULL,
    .title = part(p->rendered, "in_app", "title"), .body = part(p->rendered, "in_app", "body"),
    .html = part(p->rendered, "email", "html"), .action_url = req->action_url,
    .send_at = p->send_at[0] != '\0' ? p->send_at : NULL, .broadcast_id = req->broadcast_id,
    .data = req->data, .rendered = p->rendered, .in_app = p->in_app, .push = req->push,
  };
  return row;
}

void h_notify_respond(struct h_notify_prepared *const *items, int n, const char *created_at) {
  for (int i = 0; i < n; i++) {
    respond(items[i], created_at);
  }
}

struct h_notif_stmt *h_notify_build(struct h_notify_prepared *const *items, int n,
                                    const struct h_notif_extra *extra) {
  struct h_notification_row *rows = h_malloc((size_t)(n > 0 ? n : 1) * sizeof(*rows));
  struct h_delivery_row *dels =
      h_malloc((size_t)(n > 0 ? n : 1) * H_NOTIFY_DELIVERIES_MAX * sizeof(*dels));
  int nd = 0;
  for (int i = 0; i < n; i++) {
    const struct h_notify_prepared *p = items[i];
    rows[i] = row_of(p);
    for (int j = 0; j < p->n; j++) {
      dels[nd++] = (struct h_delivery_row){
        .id = p->d[j].id, .notification_id = p->id, .user_id = p->req->user_id,
        .channel = p->d[j].channel, .status = p->d[j].status, .reason = p->d[j].reason,
        .due_at = p->d[j].due_at[0] != '\0' ? p->d[j].due_at : NULL,
        .endpoint_id = p->d[j].endpoint_id[0] != '\0' ? p->d[j].endpoint_id : NULL};
    }
  }
  struct h_notif_stmt *st = h_notif_stmt_build(rows, n, dels, nd, extra);
  free(rows);
  free(dels);
  return st;
}

h_result h_notify_write(PGconn *conn, struct h_notify_prepared *const *items, int n) {
  struct h_notif_stmt *st = h_notify_build(items, n, NULL);
  int inserted = 0;
  char created_at[32];
  h_result r = h_notif_stmt_exec(conn, st, &inserted, created_at, NULL);
  h_notif_stmt_free(st);
  if (r == H_OK) {
    h_notify_respond(items, n, created_at);
  }
  return r;
}

h_result h_notify_in_tx(PGconn *conn, const struct h_notify_request *req, const json_t *tpl,
                        const struct h_flood_rules *flood, json_t **out,
                        struct h_push_list *push, struct h_notify_error *err) {
  *out = NULL;
  struct h_notify_prepared p;
  h_result r = h_notify_prepare(conn, req, tpl, flood, &p, err);
  struct h_notify_prepared *one = &p;
  if (r == H_OK) {
    r = h_notify_write(conn, &one, 1);
  }
  if (r == H_ERR_NOT_FOUND) {
    set_err(err, "user_not_found", "user_id", "There is no user %s (or it was deleted).",
            req->user_id);
    r = H_ERR_UNPROCESSABLE;
  }
  if (r == H_OK) {
    *out = json_loads(p.out_text, 0, NULL);
    for (size_t i = 0; i < p.push.n; i++) {
      h_push_list_add(push, p.push.items[i].queue, p.push.items[i].id, p.push.items[i].due);
    }
  }
  h_notify_prepared_free(&p);
  return r;
}

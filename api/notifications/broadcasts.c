/* broadcasts.c - POST /api/v1/notifications/bulk, GET /api/v1/notification-batches/{id},
 * POST/GET /api/v1/announcements (audience: target, user_ids, and announcements.c's locales
 * and topics), GET /api/v1/announcements/{id}. Both answer 202 at
 * once; the fan-out runs in the background and the count grows as it proceeds. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "notifications/broadcast_service.h"
#include "crypto/crypto.h"
#include "notifications/notification_input.h"
#include "notifications/notifications.h"
#include "http/idempotency.h"
#include "http/request.h"

#define BULK_MAX 1000

#define SEND_FIELDS \
  "category", "priority", "channels", "template", "data", "title", "body", "action_url", "send_at", "push"

/* user_ids: 1-1000 user ids, returned lower-cased and without duplicates (new reference). */
static json_t *user_ids(const json_t *v, struct h_field_errors *fe) {
  if (v == NULL) {
    h_field_error(fe, "user_ids", "missing_field", "This field is required.");
    return NULL;
  }
  if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > BULK_MAX) {
    h_field_error(fe, "user_ids", "invalid_type", "Must be an array of 1 to %d user ids.",
                  BULK_MAX);
    return NULL;
  }
  json_t *out = json_array(), *seen = json_object(), *item;
  size_t i;
  json_array_foreach((json_t *)v, i, item) {
    const char *id = json_string_value(item);
    if (!h_uuid_valid(id)) {
      h_field_error(fe, "user_ids", "invalid_id", "user_ids[%zu] must be a user id.", i);
      continue;
    }
    char lower[37];
    for (int k = 0; k < 37; k++) {
      lower[k] = (char)tolower((unsigned char)id[k]);
    }
    if (json_object_get(seen, lower) == NULL) {
      json_object_set_new(seen, lower, json_true());
      json_array_append_new(out, json_string(lower));
    }
  }
  json_decref(seen);
  return out;
}

/* Validates, claims the Idempotency-Key, creates and answers 202. in->req is filled. */
static void create(struct h_req *rq, struct h_broadcast_input *in, struct h_field_errors *fe) {
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_notify_error err = {{0}, {0}, {0}};
  json_t *broadcast = NULL;
  h_result r = h_broadcast_create(rq->app, &actor, in, &idem, &broadcast, &err);
  if (r == H_OK) {
    h_reply_json(rq, 202, broadcast);
  } else {
    h_idem_abort(rq->app->db, &idem);
    h_reply_notify_failure(rq, r, &err);
  }
}

void h_notifications_bulk_post(struct h_req *rq) {
  static const char *const allowed[] = {"user_ids", SEND_FIELDS, NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_broadcast_input in = {.kind = "bulk", .target = "list"};
  h_reject_unknown(rq->body, allowed, &fe);
  json_t *ids = user_ids(json_object_get(rq->body, "user_ids"), &fe);
  h_notify_parse_common(rq->body, NULL, time(NULL), &in.req, &fe);
  in.user_ids = ids;
  create(rq, &in, &fe);
  json_decref(ids);
}

void h_announcements_post(struct h_req *rq) {
  static const char *const allowed[] = {"target", "user_ids", "locales", "topics", SEND_FIELDS,
                                        NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_broadcast_input in = {.kind = "announcement"};
  h_reject_unknown(rq->body, allowed, &fe);
  in.target = h_field_string(rq->body, "target", true, 16, &fe);
  if (in.target != NULL && strcmp(in.target, "all") != 0 && strcmp(in.target, "users") != 0 &&
      strcmp(in.target, "admins") != 0 && strcmp(in.target, "list") != 0) {
    h_field_error(&fe, "target", "invalid_target", "Must be all, users, admins or list.");
  }
  json_t *ids = NULL;
  if (in.target != NULL && strcmp(in.target, "list") == 0) {
    ids = user_ids(json_object_get(rq->body, "user_ids"), &fe);
  } else if (json_object_get(rq->body, "user_ids") != NULL) {
    h_field_error(&fe, "user_ids", "not_allowed", "Only with target list.");
  }
  in.user_ids = ids;
  h_announcement_audience(rq->body, &in, &fe);
  h_notify_parse_common(rq->body, "announcement", time(NULL), &in.req, &fe);
  create(rq, &in, &fe);
  json_decref(ids);
}

static void get_one(struct h_req *rq, const char *kind, const char *what) {
  const char *id = h_req_param(rq, "id");
  json_t *b = NULL;
  h_result r = h_uuid_valid(id) ? h_broadcast_find(rq->app, id, kind, &b) : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    h_reply_json(rq, 200, b);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", what, NULL);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_notification_batch_get(struct h_req *rq) {
  get_one(rq, "bulk", "No such bulk notification.");
}

void h_announcement_get(struct h_req *rq) { get_one(rq, "announcement", "No such announcement."); }

void h_announcements_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_broadcast_list(rq->app, "announcement", &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

/* announcements.c - an announcement's audience fields (locales, topics), PATCH
 * /api/v1/announcements/{id} (its content) and POST /api/v1/announcements/{id}/withdraw. */
#include <string.h>

#include "core/fields.h"
#include "crypto/crypto.h"
#include "notifications/broadcast_service.h"
#include "notifications/notification_input.h"
#include "notifications/notifications.h"
#include "templates/template.h"
#include "http/request.h"

#define AUDIENCE_MAX 50

/* name: an array of 1-AUDIENCE_MAX distinct strings each valid by ok; NULL when absent or
 * bad (errors recorded). Borrowed from body. */
static const json_t *string_list(const json_t *body, const char *name, bool (*ok)(const char *),
                                 const char *what, struct h_field_errors *fe) {
  const json_t *v = json_object_get(body, name);
  if (v == NULL) {
    return NULL;
  }
  if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > AUDIENCE_MAX) {
    h_field_error(fe, name, "invalid_type", "Must be an array of 1 to %d %s.", AUDIENCE_MAX,
                  what);
    return NULL;
  }
  size_t i, j;
  json_t *item;
  bool good = true;
  json_array_foreach((json_t *)v, i, item) {
    const char *s = json_string_value(item);
    if (s == NULL || !ok(s)) {
      h_field_error(fe, name, "invalid_value", "%s[%zu] must be one of the %s.", name, i, what);
      good = false;
      continue;
    }
    for (j = 0; j < i; j++) {
      if (strcasecmp(s, json_string_value(json_array_get(v, j))) == 0) {
        h_field_error(fe, name, "duplicate_value", "%s[%zu] is listed twice.", name, i);
        good = false;
        break;
      }
    }
  }
  return good ? v : NULL;
}

void h_announcement_audience(const json_t *body, struct h_broadcast_input *in,
                             struct h_field_errors *fe) {
  in->locales = string_list(body, "locales", h_valid_locale, "locales (\"de\", \"pt-BR\")", fe);
  in->topics = string_list(body, "topics", h_template_key_valid, "topic keys", fe);
}

/* The :id path parameter, or a 404 reply when it is not a UUID. */
static const char *announcement_id(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such announcement.", NULL);
    return NULL;
  }
  return id;
}

/* The PATCH body's checks: title, body, action_url (string or null), data (object). */
static void check_patch(const json_t *b, struct h_field_errors *fe) {
  static const char *const allowed[] = {"title", "body", "action_url", "data", NULL};
  h_reject_unknown(b, allowed, fe);
  if (json_object_size(b) == 0) {
    h_field_error(fe, "body", "missing_field", "Give at least one of title, body, action_url, data.");
  }
  const json_t *title = json_object_get(b, "title");
  if (title != NULL && !json_is_null(title)) {
    h_field_string(b, "title", false, 200, fe);
  }
  const json_t *text = json_object_get(b, "body");
  if (text != NULL) {
    const char *s = h_field_string(b, "body", false, 10000, fe);
    if (json_is_null(text) || (s != NULL && s[0] == '\0')) {
      h_field_error(fe, "body", "too_short", "Must be a non-empty text.");
    }
  }
  const json_t *url = json_object_get(b, "action_url");
  if (url != NULL && !json_is_null(url)) {
    const char *s = h_field_string(b, "action_url", false, 2048, fe);
    if (s != NULL && strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
      h_field_error(fe, "action_url", "invalid_url", "Must be an http(s) URL.");
    }
  }
  const json_t *data = json_object_get(b, "data");
  if (data != NULL && !json_is_object(data) && !json_is_null(data)) {
    h_field_error(fe, "data", "invalid_type", "Must be an object.");
  }
}

void h_announcement_patch(struct h_req *rq) {
  const char *id = announcement_id(rq);
  if (id == NULL || !h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  check_patch(rq->body, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_notify_error err = {{0}, {0}, {0}};
  json_t *a = NULL;
  h_result r = h_broadcast_update(rq->app, &actor, id, rq->body, &a, &err);
  if (r == H_OK) {
    h_reply_json(rq, 200, a);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such announcement.", NULL);
  } else {
    h_reply_notify_failure(rq, r, &err);
  }
}

void h_announcement_withdraw_post(struct h_req *rq) {
  const char *id = announcement_id(rq);
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_notify_error err = {{0}, {0}, {0}};
  json_t *a = NULL;
  h_result r = h_broadcast_withdraw(rq->app, &actor, id, &a, &err);
  if (r == H_OK) {
    h_reply_json(rq, 200, a);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such announcement.", NULL);
  } else {
    h_reply_notify_failure(rq, r, &err);
  }
}

/* preferences.c - GET/PUT /api/v1/users/me/preferences.
 *
 * PUT takes any of the sections channels, categories, quiet_hours; a section given
 * replaces the stored one, a section left out is kept. */
#include <stdio.h>
#include <string.h>

#include "notifications/delivery_plan.h"
#include "notifications/notification_input.h"
#include "notifications/notifications.h"
#include "notifications/preference_service.h"
#include "notifications/quiet_hours.h"
#include "http/request.h"

#define MAX_CATEGORIES 100

/* {"<channel>": bool, ...} under param; returns a new object holding the valid members
 * (every channel filled in when fill is true), or NULL when v is not an object. */
static json_t *channel_map(const json_t *v, const char *param, bool fill,
                           struct h_field_errors *fe) {
  if (!json_is_object(v)) {
    h_field_error(fe, param, "invalid_type", "Must be an object of channel: boolean.");
    return NULL;
  }
  json_t *out = json_object();
  const char *key;
  json_t *value;
  char p[160];
  json_object_foreach((json_t *)v, key, value) {
    snprintf(p, sizeof(p), "%s.%.64s", param, key);
    if (h_channel_parse(key) < 0) {
      h_field_error(fe, p, "unknown_channel", "Must be one of in_app, email, sms, push, webhook.");
    } else if (!json_is_boolean(value)) {
      h_field_error(fe, p, "invalid_type", "Must be a boolean.");
    } else {
      json_object_set(out, key, value);
    }
  }
  for (int c = 0; fill && c < H_CHANNEL_COUNT; c++) {
    const char *name = h_channel_name((enum h_channel)c);
    if (json_object_get(out, name) == NULL) {
      json_object_set_new(out, name, json_true());
    }
  }
  return out;
}

/* {"<category>": {"<channel>": bool}} (new reference or NULL). */
static json_t *category_map(const json_t *v, struct h_field_errors *fe) {
  if (!json_is_object(v)) {
    h_field_error(fe, "categories", "invalid_type", "Must be an object of category: channels.");
    return NULL;
  }
  if (json_object_size(v) > MAX_CATEGORIES) {
    h_field_error(fe, "categories", "too_many", "At most %d categories.", MAX_CATEGORIES);
  }
  json_t *out = json_object();
  const char *key;
  json_t *value;
  char p[160];
  json_object_foreach((json_t *)v, key, value) {
    snprintf(p, sizeof(p), "categories.%.64s", key);
    if (!h_category_valid(key)) {
      h_field_error(fe, p, "invalid_category", "Must be 1-64 of A-Z a-z 0-9 _ . : -.");
      continue;
    }
    json_t *channels = channel_map(value, p, false, fe);
    if (channels != NULL) {
      json_object_set_new(out, key, channels);
    }
  }
  return out;
}

/* The quiet_hours section into in. */
static void quiet_hours(const json_t *v, struct h_prefs_input *in, struct h_field_errors *fe) {
  static const char *const allowed[] = {"enabled", "start", "end", "timezone", NULL};
  if (!json_is_object(v)) {
    h_field_error(fe, "quiet_hours", "invalid_type", "Must be an object.");
    return;
  }
  struct h_field_errors local = {0};
  h_reject_unknown(v, allowed, &local);
  in->quiet_given = h_field_bool(v, "enabled", true, &in->quiet_enabled, &local);
  in->quiet_start = h_field_string(v, "start", in->quiet_enabled, 5, &local);
  in->quiet_end = h_field_string(v, "end", in->quiet_enabled, 5, &local);
  in->quiet_timezone = h_field_string(v, "timezone", false, 64, &local);
  int start = -1, end = -1;
  if (in->quiet_start != NULL && !h_quiet_parse_hhmm(in->quiet_start, &start)) {
    h_field_error(&local, "start", "invalid_time", "Must be a time HH:MM from 00:00 to 23:59.");
  }
  if (in->quiet_end != NULL && !h_quiet_parse_hhmm(in->quiet_end, &end)) {
    h_field_error(&local, "end", "invalid_time", "Must be a time HH:MM from 00:00 to 23:59.");
  }
  if (start >= 0 && start == end) {
    h_field_error(&local, "end", "empty_window", "Must differ from start.");
  }
  if (in->quiet_timezone != NULL && !h_valid_timezone(in->quiet_timezone)) {
    h_field_error(&local, "timezone", "invalid_timezone", "Must be an IANA time zone.");
  }
  /* Report the nested errors under "quiet_hours.<field>". */
  size_t i;
  json_t *e;
  json_array_foreach(local.list, i, e) {
    char p[96];
    snprintf(p, sizeof(p), "quiet_hours.%s", json_string_value(json_object_get(e, "param")));
    h_field_error(fe, p, json_string_value(json_object_get(e, "code")), "%s",
                  json_string_value(json_object_get(e, "message")));
  }
  h_field_errors_clear(&local);
}

void h_preferences_get(struct h_req *rq) {
  json_t *prefs = NULL;
  h_result r = h_preferences_read(rq->app, rq->user_id, &prefs);
  if (r == H_OK) {
    h_reply_json(rq, 200, prefs);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "invalid_token", "The account no longer exists.", NULL);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_preferences_put(struct h_req *rq) {
  static const char *const allowed[] = {"channels", "categories", "quiet_hours", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_prefs_input in = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  json_t *channels = NULL, *categories = NULL;
  if (json_object_get(rq->body, "channels") != NULL) {
    channels = channel_map(json_object_get(rq->body, "channels"), "channels", true, &fe);
  }
  if (json_object_get(rq->body, "categories") != NULL) {
    categories = category_map(json_object_get(rq->body, "categories"), &fe);
  }
  if (json_object_get(rq->body, "quiet_hours") != NULL) {
    quiet_hours(json_object_get(rq->body, "quiet_hours"), &in, &fe);
  }
  in.channels = channels;
  in.categories = categories;
  json_t *prefs = NULL;
  h_result r = H_ERR_INVALID;
  if (h_field_errors_count(&fe) == 0) {
    struct h_actor actor = h_actor_of(rq);
    r = h_preferences_write(rq->app, &actor, &in, &prefs);
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
  } else if (r == H_OK) {
    h_reply_json(rq, 200, prefs);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
  json_decref(channels);
  json_decref(categories);
}

/* fcm_message.c - building the FCM HTTP v1 message of a push job from the notification
 * and its push options. */
#include "fcm_message.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/fields.h"

/* Copies src's members into dst, merging objects member by member (src wins). dst owned
 * by the caller, src borrowed. */
static void merge(json_t *dst, const json_t *src) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)src, key, value) {
    json_t *mine = json_object_get(dst, key);
    if (json_is_object(mine) && json_is_object(value)) {
      merge(mine, value);
    } else {
      json_object_set_new(dst, key, json_deep_copy(value));
    }
  }
}

/* The object member key of obj, created empty when absent (borrowed from obj). */
static json_t *child(json_t *obj, const char *key) {
  json_t *c = json_object_get(obj, key);
  if (!json_is_object(c)) {
    c = json_object();
    json_object_set_new(obj, key, c);
  }
  return c;
}

static json_t *data_payload(const struct h_job *job) {
  json_t *data = h_json_string_map(job->data, NULL);
  json_object_set_new(data, "delivery_id", json_string(job->id));
  json_object_set_new(data, "notification_id", json_string(job->notification_id));
  if (job->category != NULL) {
    json_object_set_new(data, "category", json_string(job->category));
  }
  if (job->action_url != NULL) {
    json_object_set_new(data, "action_url", json_string(job->action_url));
  }
  return data;
}

static bool urgent(const struct h_job *job) {
  const char *asked = json_string_value(json_object_get(job->push, "priority"));
  if (asked != NULL) {
    return strcmp(asked, "high") == 0;
  }
  return job->priority != NULL &&
         (strcmp(job->priority, "high") == 0 || strcmp(job->priority, "critical") == 0);
}

static json_t *android_config(const struct h_job *job, bool silent, bool badge) {
  json_t *android = json_pack("{ss}", "priority", urgent(job) ? "HIGH" : "NORMAL");
  const json_t *ttl = json_object_get(job->push, "ttl");
  if (json_is_integer(ttl)) {
    char text[32];
    snprintf(text, sizeof(text), "%llds", (long long)json_integer_value(ttl));
    json_object_set_new(android, "ttl", json_string(text));
  }
  const char *collapse = json_string_value(json_object_get(job->push, "collapse_key"));
  if (collapse != NULL) {
    json_object_set_new(android, "collapse_key", json_string(collapse));
  }
  if (badge && !silent) {
    json_object_set_new(child(android, "notification"), "notification_count",
                        json_integer(job->unread));
  }
  return android;
}

static json_t *apns_config(const struct h_job *job, bool silent, bool badge, time_t now) {
  json_t *apns = json_object();
  json_t *headers = child(apns, "headers");
  json_object_set_new(headers, "apns-priority",
                      json_string(!silent && urgent(job) ? "10" : "5"));
  json_object_set_new(headers, "apns-push-type", json_string(silent ? "background" : "alert"));
  const json_t *ttl = json_object_get(job->push, "ttl");
  if (json_is_integer(ttl)) {
    long long secs = json_integer_value(ttl);
    char text[32];
    snprintf(text, sizeof(text), "%lld", secs == 0 ? 0LL : (long long)now + secs);
    json_object_set_new(headers, "apns-expiration", json_string(text));
  }
  const char *collapse = json_string_value(json_object_get(job->push, "collapse_key"));
  if (collapse != NULL) {
    json_object_set_new(headers, "apns-collapse-id", json_string(collapse));
  }
  json_t *aps = child(child(apns, "payload"), "aps");
  if (silent) {
    json_object_set_new(aps, "content-available", json_integer(1));
  } else if (badge) {
    json_object_set_new(aps, "badge", json_integer(job->unread));
  }
  return apns;
}

json_t *h_fcm_message(const struct h_job *job, const char *token, time_t now) {
  bool silent = json_is_true(json_object_get(job->push, "silent"));
  bool badge = !json_is_false(json_object_get(job->push, "badge"));
  json_t *message = json_pack("{ss so}", "token", token, "data", data_payload(job));
  if (!silent) {
    json_object_set_new(message, "notification",
                        json_pack("{ssss}", "title", job->title != NULL ? job->title : "",
                                  "body", job->body != NULL ? job->body : ""));
  }
  json_t *android = android_config(job, silent, badge);
  json_t *apns = apns_config(job, silent, badge, now);
  const json_t *override = json_object_get(job->push, "android");
  if (json_is_object(override)) {
    merge(android, override);
  }
  override = json_object_get(job->push, "apns");
  if (json_is_object(override)) {
    merge(apns, override);
  }
  json_object_set_new(message, "android", android);
  json_object_set_new(message, "apns", apns);
  return json_pack("{so}", "message", message);
}

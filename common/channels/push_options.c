/* push_options.c - checks of the `push` request object and of `data` as FCM sees it. */
#include "channels/push_options.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fields.h"

/* Data keys FCM refuses, and the ones herald-push sets itself. */
static bool reserved_key(const char *k) {
  static const char *const exact[] = {"from", "notification", "message_type", "collapse_key",
                                      "delivery_id", "notification_id", NULL};
  for (int i = 0; exact[i] != NULL; i++) {
    if (strcmp(k, exact[i]) == 0) {
      return true;
    }
  }
  return strncmp(k, "google", 6) == 0 || strncmp(k, "gcm", 3) == 0;
}

static void check_data(const json_t *data, struct h_field_errors *fe) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)data, key, value) {
    if (reserved_key(key)) {
      char param[96];
      snprintf(param, sizeof(param), "data.%.64s", key);
      h_field_error(fe, param, "reserved_key",
                    "FCM or Herald reserves this key (from, notification, message_type,"
                    " collapse_key, delivery_id, notification_id, google*, gcm*).");
    }
  }
  size_t bytes = 0;
  json_decref(h_json_string_map(data, &bytes));
  if (bytes > H_PUSH_DATA_MAX) {
    h_field_error(fe, "data", "push_data_too_large",
                  "The push data payload is %zu bytes (keys and values as strings); FCM"
                  " takes at most %d.", bytes, H_PUSH_DATA_MAX);
  }
}

/* Records unknown_field as push.<prefix><key> for members of obj not in allowed. */
static void reject_unknown(const json_t *obj, const char *prefix, const char *const *allowed,
                           struct h_field_errors *fe) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    bool known = false;
    for (int i = 0; allowed[i] != NULL && !known; i++) {
      known = strcmp(key, allowed[i]) == 0;
    }
    if (!known) {
      char param[128];
      snprintf(param, sizeof(param), "push.%s%.64s", prefix, key);
      h_field_error(fe, param, "unknown_field", "Unknown field.");
    }
  }
}

static bool collapse_key_valid(const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-') {
      return false;
    }
  }
  return n >= 1 && n <= 64;
}

/* An FCM duration: digits, optional fraction, then "s" ("3.5s"). */
static bool duration_valid(const char *s) {
  size_t i = 0;
  while (isdigit((unsigned char)s[i])) {
    i++;
  }
  if (i == 0) {
    return false;
  }
  if (s[i] == '.') {
    size_t j = ++i;
    while (isdigit((unsigned char)s[i])) {
      i++;
    }
    if (i == j) {
      return false;
    }
  }
  return s[i] == 's' && s[i + 1] == '\0';
}

/* push.android: FCM's AndroidConfig, checked field by field. */
static void check_android(const json_t *a, struct h_field_errors *fe) {
  static const char *const allowed[] = {"collapse_key", "priority", "ttl",
                                        "restricted_package_name", "notification",
                                        "fcm_options", "direct_boot_ok", NULL};
  reject_unknown(a, "android.", allowed, fe);
  const char *p = json_string_value(json_object_get(a, "priority"));
  const json_t *pv = json_object_get(a, "priority");
  if (pv != NULL && (p == NULL || (strcmp(p, "HIGH") != 0 && strcmp(p, "NORMAL") != 0))) {
    h_field_error(fe, "push.android.priority", "invalid_priority", "Must be HIGH or NORMAL.");
  }
  const json_t *ttl = json_object_get(a, "ttl");
  if (ttl != NULL && (!json_is_string(ttl) || json_string_length(ttl) > 16 ||
                      !duration_valid(json_string_value(ttl)))) {
    h_field_error(fe, "push.android.ttl", "invalid_duration",
                  "Must be a duration in seconds such as \"3600s\".");
  }
  const char *strings[] = {"collapse_key", "restricted_package_name"};
  const size_t maxlen[] = {64, 256};
  for (size_t i = 0; i < 2; i++) {
    const json_t *v = json_object_get(a, strings[i]);
    if (v != NULL && (!json_is_string(v) || json_string_length(v) > maxlen[i])) {
      char param[64];
      snprintf(param, sizeof(param), "push.android.%s", strings[i]);
      h_field_error(fe, param, "invalid_type", "Must be a string of at most %zu bytes.",
                    maxlen[i]);
    }
  }
  const char *objects[] = {"notification", "fcm_options"};
  for (size_t i = 0; i < 2; i++) {
    const json_t *v = json_object_get(a, objects[i]);
    if (v != NULL && !json_is_object(v)) {
      char param[64];
      snprintf(param, sizeof(param), "push.android.%s", objects[i]);
      h_field_error(fe, param, "invalid_type", "Must be an object.");
    }
  }
  const json_t *boot = json_object_get(a, "direct_boot_ok");
  if (boot != NULL && !json_is_boolean(boot)) {
    h_field_error(fe, "push.android.direct_boot_ok", "invalid_type", "Must be a boolean.");
  }
}

/* push.apns: FCM's ApnsConfig (headers of string values, payload, fcm_options). */
static void check_apns(const json_t *a, struct h_field_errors *fe) {
  static const char *const allowed[] = {"headers", "payload", "fcm_options", NULL};
  reject_unknown(a, "apns.", allowed, fe);
  const json_t *headers = json_object_get(a, "headers");
  if (headers != NULL && !json_is_object(headers)) {
    h_field_error(fe, "push.apns.headers", "invalid_type", "Must be an object of strings.");
  }
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)headers, key, value) {
    if (!json_is_string(value) || json_string_length(value) > 256 ||
        strncmp(key, "apns-", 5) != 0) {
      char param[128];
      snprintf(param, sizeof(param), "push.apns.headers.%.64s", key);
      h_field_error(fe, param, "invalid_header",
                    "Must be an apns-* header with a string value of at most 256 bytes.");
    }
  }
  const char *objects[] = {"payload", "fcm_options"};
  for (size_t i = 0; i < 2; i++) {
    const json_t *v = json_object_get(a, objects[i]);
    if (v != NULL && !json_is_object(v)) {
      char param[64];
      snprintf(param, sizeof(param), "push.apns.%s", objects[i]);
      h_field_error(fe, param, "invalid_type", "Must be an object.");
    }
  }
}

/* The scalar members of push: silent, badge, priority, ttl, collapse_key. */
static void check_scalars(const json_t *push, struct h_field_errors *fe) {
  const char *bools[] = {"silent", "badge"};
  for (size_t i = 0; i < 2; i++) {
    const json_t *v = json_object_get(push, bools[i]);
    if (v != NULL && !json_is_boolean(v)) {
      char param[32];
      snprintf(param, sizeof(param), "push.%s", bools[i]);
      h_field_error(fe, param, "invalid_type", "Must be a boolean.");
    }
  }
  const json_t *pv = json_object_get(push, "priority");
  const char *p = json_string_value(pv);
  if (pv != NULL && (p == NULL || (strcmp(p, "high") != 0 && strcmp(p, "normal") != 0))) {
    h_field_error(fe, "push.priority", "invalid_priority", "Must be high or normal.");
  }
  const json_t *ttl = json_object_get(push, "ttl");
  if (ttl != NULL && (!json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
                      json_integer_value(ttl) > H_PUSH_TTL_MAX)) {
    h_field_error(fe, "push.ttl", "invalid_ttl",
                  "Must be an integer number of seconds from 0 to %d (28 days).",
                  H_PUSH_TTL_MAX);
  }
  const json_t *ck = json_object_get(push, "collapse_key");
  if (ck != NULL && (!json_is_string(ck) || !collapse_key_valid(json_string_value(ck)))) {
    h_field_error(fe, "push.collapse_key", "invalid_collapse_key",
                  "Must be 1-64 of A-Z a-z 0-9 _ . : -.");
  }
}

const json_t *h_push_options_parse(const json_t *body, const json_t *data, bool may_push,
                                   struct h_field_errors *fe) {
  size_t before = json_array_size(fe->list);
  if (may_push && json_is_object(data)) {
    check_data(data, fe);
  }
  const json_t *push = json_object_get(body, "push");
  if (push == NULL) {
    return NULL;
  }
  if (!json_is_object(push)) {
    h_field_error(fe, "push", "invalid_type", "Must be an object.");
    return NULL;
  }
  static const char *const allowed[] = {"silent", "priority", "ttl", "collapse_key", "badge",
                                        "android", "apns", NULL};
  reject_unknown(push, "", allowed, fe);
  check_scalars(push, fe);
  const json_t *android = json_object_get(push, "android"), *apns = json_object_get(push, "apns");
  if (android != NULL && !json_is_object(android)) {
    h_field_error(fe, "push.android", "invalid_type", "Must be an object.");
  } else if (android != NULL) {
    check_android(android, fe);
  }
  if (apns != NULL && !json_is_object(apns)) {
    h_field_error(fe, "push.apns", "invalid_type", "Must be an object.");
  } else if (apns != NULL) {
    check_apns(apns, fe);
  }
  char *text = json_dumps(push, JSON_COMPACT);
  if (text != NULL && strlen(text) > H_PUSH_DATA_MAX) {
    h_field_error(fe, "push", "too_large", "Must be at most %d bytes as JSON.", H_PUSH_DATA_MAX);
  }
  free(text);
  return json_array_size(fe->list) == before ? push : NULL;
}

/* flood.c - parsing and reading the flood rules (see flood.h). */
#include "core/flood.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char *const channels[] = {"email", "sms", "push", "webhook", NULL};

static bool is_channel(const char *s) {
  for (int i = 0; channels[i] != NULL; i++) {
    if (strcmp(s, channels[i]) == 0) {
      return true;
    }
  }
  return false;
}

/* A category name: 1-64 of A-Z a-z 0-9 _ . : - (as the API accepts). */
static bool is_category(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= 64 &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") == n;
}

/* Parses "key=N,key=N" (spaces allowed) into {"key": N}; keys checked by channel_keys
 * (true) or as categories; N in 1..max. NULL with *error set on a bad item. */
static json_t *parse_kv(const char *var, const char *list, bool channel_keys, long max,
                        char **error) {
  json_t *out = json_object();
  char *copy = h_strdup(list != NULL ? list : ""), *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item != NULL && *error == NULL;
       item = strtok_r(NULL, ",", &save)) {
    char key[80];
    long n = 0;
    char extra = '\0';
    while (*item == ' ') {
      item++;
    }
    if (*item == '\0') {
      continue;
    }
    if (sscanf(item, " %79[^= ] = %ld %c", key, &n, &extra) != 2 || n < 1 || n > max) {
      *error = h_sprintf("%s: '%.64s' is not <%s>=<1..%ld>", var, item,
                         channel_keys ? "channel" : "category", max);
    } else if (channel_keys ? !is_channel(key) : !is_category(key)) {
      *error = h_sprintf("%s: '%.64s' is not %s", var, key,
                         channel_keys ? "email, sms, push or webhook" : "a category name");
    } else {
      json_object_set_new(out, key, json_integer(n));
    }
  }
  free(copy);
  if (*error != NULL) {
    json_decref(out);
    return NULL;
  }
  return out;
}

/* "a,b,c" into {"a": true, ...}; NULL with *error on a bad name. */
static json_t *parse_set(const char *var, const char *list, char **error) {
  json_t *out = json_object();
  char *copy = h_strdup(list != NULL ? list : ""), *save = NULL;
  for (char *item = strtok_r(copy, ", ", &save); item != NULL && *error == NULL;
       item = strtok_r(NULL, ", ", &save)) {
    if (!is_category(item)) {
      *error = h_sprintf("%s: '%.64s' is not a category name", var, item);
    } else {
      json_object_set_new(out, item, json_true());
    }
  }
  free(copy);
  if (*error != NULL) {
    json_decref(out);
    return NULL;
  }
  return out;
}

h_result h_flood_parse(const struct h_config *cfg, struct h_flood_rules *out, char **error) {
  memset(out, 0, sizeof(*out));
  *error = NULL;
  out->windows = parse_kv("HERALD_DIGEST_WINDOWS", cfg->digest_windows, false, 86400, error);
  if (*error == NULL) {
    out->exempt = parse_set("HERALD_FLOOD_EXEMPT_CATEGORIES", cfg->flood_exempt_categories,
                            error);
  }
  if (*error == NULL) {
    out->throttle = parse_kv("HERALD_THROTTLE_PER_HOUR", cfg->throttle_per_hour, true,
                             1000000, error);
  }
  if (*error == NULL) {
    out->caps = parse_kv("HERALD_DAILY_CAPS", cfg->daily_caps, true, 100000000, error);
  }
  return *error == NULL ? H_OK : H_ERR_INVALID;
}

void h_flood_free(struct h_flood_rules *rules) {
  json_decref(rules->windows);
  json_decref(rules->exempt);
  json_decref(rules->throttle);
  json_decref(rules->caps);
  memset(rules, 0, sizeof(*rules));
}

bool h_flood_exempt(const struct h_flood_rules *rules, const char *category,
                    const char *priority) {
  if (priority != NULL && strcmp(priority, "critical") == 0) {
    return true;
  }
  return rules != NULL && category != NULL && json_object_get(rules->exempt, category) != NULL;
}

int h_flood_digest_window(const struct h_flood_rules *rules, const char *category,
                          const char *priority) {
  if (rules == NULL || category == NULL || h_flood_exempt(rules, category, priority)) {
    return 0;
  }
  return (int)json_integer_value(json_object_get(rules->windows, category));
}

int h_flood_throttle(const struct h_flood_rules *rules, const char *channel) {
  return rules == NULL ? 0 : (int)json_integer_value(json_object_get(rules->throttle, channel));
}

int h_flood_cap(const struct h_flood_rules *rules, const char *channel) {
  return rules == NULL ? 0 : (int)json_integer_value(json_object_get(rules->caps, channel));
}

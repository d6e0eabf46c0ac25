/* fields.c - readers of JSON request fields and checks of their values; every failure
 * is recorded as a field error (core/errors.h), never answered here. */
#include "core/fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void h_reject_unknown(const json_t *body, const char *const *allowed, struct h_field_errors *fe) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)body, key, value) {
    bool known = false;
    for (int i = 0; allowed[i] != NULL && !known; i++) {
      known = strcmp(key, allowed[i]) == 0;
    }
    if (!known) {
      char param[80];
      snprintf(param, sizeof(param), "%.64s", key);
      h_field_error(fe, param, "unknown_field", "Unknown field.");
    }
  }
}

/* Number of UTF-8 code points in s. */
static size_t utf8_len(const char *s) {
  size_t n = 0;
  for (; *s != '\0'; s++) {
    n += ((unsigned char)*s & 0xC0) != 0x80;
  }
  return n;
}

const char *h_field_string(const json_t *body, const char *name, bool required, size_t maxlen,
                           struct h_field_errors *fe) {
  json_t *v = json_object_get(body, name);
  if (v == NULL || (json_is_null(v) && required)) {
    if (required) {
      h_field_error(fe, name, "missing_field", "This field is required.");
    }
    return NULL;
  }
  if (json_is_null(v)) {
    return NULL;
  }
  if (!json_is_string(v)) {
    h_field_error(fe, name, "invalid_type", "Must be a string.");
    return NULL;
  }
  const char *s = json_string_value(v);
  if (utf8_len(s) > maxlen) {
    h_field_error(fe, name, "too_long", "Must be at most %zu characters.", maxlen);
    return NULL;
  }
  return s;
}

bool h_field_bool(const json_t *body, const char *name, bool required, bool *out,
                  struct h_field_errors *fe) {
  json_t *v = json_object_get(body, name);
  if (v == NULL || (json_is_null(v) && !required)) {
    if (required) {
      h_field_error(fe, name, "missing_field", "This field is required.");
    }
    return false;
  }
  if (!json_is_boolean(v)) {
    h_field_error(fe, name, "invalid_type", "Must be a boolean.");
    return false;
  }
  *out = json_is_true(v);
  return true;
}

bool h_valid_email(const char *s) {
  if (s == NULL) {
    return false;
  }
  size_t len = strlen(s);
  const char *at = strchr(s, '@');
  if (len < 3 || len > 254 || at == NULL || at == s || strchr(at + 1, '@') != NULL ||
      (size_t)(at - s) > 64) {
    return false;
  }
  for (const char *p = s; *p != '\0'; p++) {
    if ((unsigned char)*p <= ' ' || *p == '"' || *p == '(' || *p == ')' || *p == ',' ||
        *p == ':' || *p == ';' || *p == '<' || *p == '>' || *p == '[' || *p == ']' ||
        *p == '\\' || (unsigned char)*p == 0x7f) {
      return false;
    }
  }
  const char *domain = at + 1;
  const char *dot = strrchr(domain, '.');
  return dot != NULL && dot != domain && dot[1] != '\0' && domain[0] != '.' &&
         strstr(domain, "..") == NULL && domain[strlen(domain) - 1] != '.';
}

bool h_valid_phone(const char *s) {
  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9') {
    return false;
  }
  size_t digits = strlen(s + 1);
  if (digits < 7 || digits > 15) {
    return false;
  }
  for (const char *p = s + 1; *p != '\0'; p++) {
    if (!isdigit((unsigned char)*p)) {
      return false;
    }
  }
  return true;
}

bool h_valid_timezone(const char *s) {
  if (s == NULL || s[0] == '\0' || s[0] == '/' || strlen(s) > 64 || strstr(s, "..") != NULL) {
    return false;
  }
  for (const char *p = s; *p != '\0'; p++) {
    if (!isalnum((unsigned char)*p) && *p != '/' && *p != '_' && *p != '-' && *p != '+') {
      return false;
    }
  }
  if (strcmp(s, "UTC") == 0) {
    return true;
  }
  /* Files of the tz database that are not zone names. */
  if (strstr(s, "//") != NULL || strncmp(s, "right/", 6) == 0 || strncmp(s, "posix/", 6) == 0 ||
      strcmp(s, "posixrules") == 0 || strcmp(s, "localtime") == 0 || strcmp(s, "Factory") == 0 ||
      s[strlen(s) - 1] == '/' || !isupper((unsigned char)s[0])) {
    return false;
  }
  char path[128];
  snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool h_valid_locale(const char *s) {
  if (s == NULL) {
    return false;
  }
  size_t n = strlen(s);
  if (n != 2 && n != 3 && n != 5) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    bool ok = i < 2 || (n == 3 && i == 2) ? islower((unsigned char)s[i])
              : i == 2                    ? s[i] == '-'
                                          : isupper((unsigned char)s[i]);
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool h_valid_timestamp(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *rest = s != NULL ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (rest == NULL || strlen(s) < 20 || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900) {
    return false;
  }
  /* Reject days a month does not have (strptime takes 02-30): normalise and compare. */
  struct tm norm = tm;
  time_t t = timegm(&norm);
  struct tm back;
  gmtime_r(&t, &back);
  if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon) {
    return false;
  }
  if (*rest == '.') {
    rest++;
    if (!isdigit((unsigned char)*rest)) {
      return false;
    }
    while (isdigit((unsigned char)*rest)) {
      rest++;
    }
  }
  if (strcmp(rest, "Z") == 0) {
    return true;
  }
  bool shape = (rest[0] == '+' || rest[0] == '-') && isdigit((unsigned char)rest[1]) &&
               isdigit((unsigned char)rest[2]) && rest[3] == ':' &&
               isdigit((unsigned char)rest[4]) && isdigit((unsigned char)rest[5]) &&
               rest[6] == '\0';
  return shape && (rest[1] - '0') * 10 + (rest[2] - '0') <= 23 && rest[4] <= '5';
}

json_t *h_json_string_map(const json_t *obj, size_t *bytes) {
  json_t *out = json_object();
  size_t total = 0;
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    char *text = json_is_string(value) ? NULL : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *s = json_is_string(value) ? json_string_value(value) : text;
    total += strlen(key) + strlen(s != NULL ? s : "");
    json_object_set_new(out, key, json_string(s != NULL ? s : ""));
    free(text);
  }
  if (bytes != NULL) {
    *bytes = total;
  }
  return out;
}

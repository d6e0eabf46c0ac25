/* errors.c - failures as data and error bodies. */
#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

json_t *h_error_body(h_result r, const char *code, const char *message, const char *param,
                     json_t *errors) {
  json_t *err = json_object();
  json_object_set_new(err, "type", json_string(h_result_error_type(r)));
  json_object_set_new(err, "code", json_string(code != NULL ? code : h_result_error_code(r)));
  json_object_set_new(err, "message", json_string(message != NULL ? message : ""));
  if (param != NULL) {
    json_object_set_new(err, "param", json_string(param));
  }
  if (errors != NULL) {
    json_object_set_new(err, "errors", errors);
  }
  return json_pack("{so}", "error", err);
}

h_result h_error_set(struct h_error *e, h_result r, const char *code, const char *message,
                     const char *param) {
  snprintf(e->code, sizeof(e->code), "%s", code != NULL ? code : "");
  snprintf(e->message, sizeof(e->message), "%s", message != NULL ? message : "");
  snprintf(e->param, sizeof(e->param), "%s", param != NULL ? param : "");
  return r;
}

void h_error_clear(struct h_error *e) {
  json_decref(e->extra);
  memset(e, 0, sizeof(*e));
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s) {
  size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      return 0;
    }
  }
  if ((n == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F))) ||
      (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)))) {
    return 0; /* overlong, surrogate or beyond U+10FFFF */
  }
  return n;
}

void h_utf8_repair(char *s) {
  unsigned char *p = (unsigned char *)s;
  while (*p != '\0') {
    size_t n = utf8_seq(p);
    if (n == 0) {
      *p++ = '?';
    } else {
      p += n;
    }
  }
}

void h_field_error(struct h_field_errors *fe, const char *param, const char *code,
                   const char *fmt, ...) {
  char message[256], name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  /* A name or message cut inside a character (or quoting bad input) must not make jansson
   * refuse the entry: a dropped error would let the request through. */
  snprintf(name, sizeof(name), "%s", param);
  h_utf8_repair(name);
  h_utf8_repair(message);
  if (fe->list == NULL) {
    fe->list = json_array();
  }
  json_t *entry = json_pack("{ssssss}", "param", name, "code", code, "message", message);
  if (entry == NULL) { /* never silently: the request fails either way */
    entry = json_pack("{ssssss}", "param", "", "code", "invalid_request", "message",
                      "The request is invalid.");
  }
  json_array_append_new(fe->list, entry);
}

size_t h_field_errors_count(const struct h_field_errors *fe) {
  return fe->list == NULL ? 0 : json_array_size(fe->list);
}

json_t *h_field_errors_body(struct h_field_errors *fe) {
  json_t *first = json_array_get(fe->list, 0);
  const char *code = json_string_value(json_object_get(first, "code"));
  const char *message = json_string_value(json_object_get(first, "message"));
  const char *param = json_string_value(json_object_get(first, "param"));
  json_t *body = h_error_body(H_ERR_INVALID, code != NULL ? code : "invalid_request",
                              message != NULL ? message : "The request is invalid.", param,
                              json_incref(fe->list));
  h_field_errors_clear(fe);
  return body;
}

void h_field_errors_clear(struct h_field_errors *fe) {
  json_decref(fe->list);
  fe->list = NULL;
}

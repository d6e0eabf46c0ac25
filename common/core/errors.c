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

void h_field_error(struct h_field_errors *fe, const char *param, const char *code,
                   const char *fmt, ...) {
  char message[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  if (fe->list == NULL) {
    fe->list = json_array();
  }
  json_array_append_new(fe->list, json_pack("{ssssss}", "param", param, "code", code,
                                            "message", message));
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

/* payment_http.c - request parsing, and the mapping of service results to replies,
 * shared by the payment handlers. */
#include "payments/payment_http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "http/idempotency.h"
#include "http/request.h"

void h_payment_send(struct h_req *rq, h_result r, enum h_outcome outcome, json_t *body,
                    struct h_error *err) {
  if (r != H_OK) {
    json_decref(body);
    h_reply_failure(rq, r, err);
  } else if (body == NULL) {
    h_reply_no_content(rq);
  } else {
    h_reply_json(rq, h_http_outcome_status(outcome), body);
  }
  h_error_clear(err);
}

void h_payment_send_list(struct h_req *rq, h_result r, json_t *data, bool has_more,
                         struct h_error *err) {
  h_payment_send(rq, r, H_OUTCOME_OK, r == H_OK ? h_list_body(data, has_more) : NULL, err);
}

const char *h_payment_path_id(struct h_req *rq, const char *what) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    char message[64];
    snprintf(message, sizeof(message), "No such %s.", what);
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", message, NULL);
    return NULL;
  }
  return id;
}

const json_t *h_payment_body(struct h_req *rq, bool optional) {
  if (optional && rq->body == NULL) {
    rq->body = json_object();
  }
  return h_require_object(rq) ? rq->body : NULL;
}

bool h_payment_field_integer(const json_t *body, const char *name, bool required, long long *out,
                         struct h_field_errors *fe) {
  json_t *v = json_object_get(body, name);
  if (v == NULL || (json_is_null(v) && !required)) {
    if (required) {
      h_field_error(fe, name, "missing_field", "This field is required.");
    }
    return false;
  }
  if (!json_is_integer(v)) {
    h_field_error(fe, name, "invalid_type", "Must be an integer (minor units).");
    return false;
  }
  *out = (long long)json_integer_value(v);
  return true;
}

bool h_payment_provider_method_valid(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  if (n < 4 || n > 203 || strncmp(s, "pm_", 3) != 0) {
    return false;
  }
  for (size_t i = 3; i < n; i++) {
    if (!isalnum((unsigned char)s[i]) && s[i] != '_') {
      return false;
    }
  }
  return true;
}

const char *h_payment_field_method(const json_t *body, struct h_field_errors *fe) {
  const char *pm = h_field_string(body, "payment_method_id", false, 203, fe);
  if (pm != NULL && !h_uuid_valid(pm) && !h_payment_provider_method_valid(pm)) {
    h_field_error(fe, "payment_method_id", "invalid_payment_method",
                  "Must be the id of a saved payment method or a provider id (pm_...).");
    return NULL;
  }
  return pm;
}

struct h_payment_viewer h_payment_viewer_of(const struct h_req *rq) {
  struct h_payment_viewer v = {.user_id = rq->user_id, .admin = strcmp(rq->role, "admin") == 0};
  return v;
}

const char *h_payment_param_time(const struct h_req *rq, const char *name,
                                 struct h_field_errors *fe) {
  const char *v = h_req_param(rq, name);
  if (v != NULL && !h_valid_timestamp(v)) {
    h_field_error(fe, name, "invalid_timestamp", "Must be an RFC 3339 timestamp.");
    return NULL;
  }
  return v;
}

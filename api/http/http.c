/* http.c - the one mapping of result codes to HTTP statuses, replies and request
 * accessors. */
#include "http/http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void h_reply_json(struct h_req *rq, unsigned int status, json_t *body) {
  ulfius_set_json_body_response(rq->response, status, body);
  json_decref(body);
  rq->done = true;
}

void h_reply_json_text(struct h_req *rq, unsigned int status, const char *text) {
  ulfius_set_binary_body_response(rq->response, status, text, strlen(text));
  h_reply_header(rq, "Content-Type", "application/json");
  rq->done = true;
}

static const unsigned int statuses[H_RESULT_COUNT] = {
  [H_OK] = 200,           [H_ERR_INVALID] = 400,     [H_ERR_UNAUTHORIZED] = 401,
  [H_ERR_PAYMENT] = 402,  [H_ERR_FORBIDDEN] = 403,   [H_ERR_NOT_FOUND] = 404,
  [H_ERR_METHOD] = 405,   [H_ERR_CONFLICT] = 409,    [H_ERR_TOO_LARGE] = 413,
  [H_ERR_MEDIA_TYPE] = 415, [H_ERR_UNPROCESSABLE] = 422, [H_ERR_RATE_LIMITED] = 429,
  [H_ERR_UNAVAILABLE] = 503, [H_ERR_TIMEOUT] = 503,  [H_ERR_INTERNAL] = 500,
};

unsigned int h_result_http_status(h_result r) {
  return (int)r < 0 || r >= H_RESULT_COUNT ? 500 : statuses[r];
}

json_t *h_http_error_body(h_result r, const struct h_error *e) {
  json_t *body = h_error_body(r, e->code[0] != '\0' ? e->code : NULL, e->message,
                              e->param[0] != '\0' ? e->param : NULL, NULL);
  json_t *err = json_object_get(body, "error");
  if (e->type[0] != '\0') {
    json_object_set_new(err, "type", json_string(e->type));
  }
  if (e->extra != NULL) {
    json_object_update(err, e->extra);
  }
  return body;
}

void h_reply_failure(struct h_req *rq, h_result r, const struct h_error *e) {
  if (e->retry_after) {
    h_reply_header(rq, "Retry-After", "2");
  }
  h_reply_json(rq, h_result_http_status(r), h_http_error_body(r, e));
}

void h_reply_error(struct h_req *rq, h_result r, const char *code, const char *message,
                   const char *param) {
  h_reply_json(rq, h_result_http_status(r), h_error_body(r, code, message, param, NULL));
}

void h_reply_field_errors(struct h_req *rq, struct h_field_errors *fe) {
  h_reply_json(rq, 400, h_field_errors_body(fe));
}

void h_reply_no_content(struct h_req *rq) {
  ulfius_set_empty_body_response(rq->response, 204);
  rq->done = true;
}

void h_reply_text(struct h_req *rq, unsigned int status, const char *content_type,
                  const char *text) {
  ulfius_set_binary_body_response(rq->response, status, text, strlen(text));
  u_map_put(rq->response->map_header, "Content-Type", content_type);
  rq->done = true;
}

void h_reply_header(struct h_req *rq, const char *name, const char *value) {
  u_map_put(rq->response->map_header, name, value);
}

const char *h_req_header(const struct h_req *rq, const char *name) {
  return u_map_get_case(rq->request->map_header, name);
}

const char *h_req_param(const struct h_req *rq, const char *name) {
  return u_map_get(rq->request->map_url, name);
}

bool h_is_json_content_type(const char *ct) {
  static const char json[] = "application/json";
  if (ct == NULL || strncasecmp(ct, json, sizeof(json) - 1) != 0) {
    return false;
  }
  char next = ct[sizeof(json) - 1];
  return next == '\0' || next == ';' || next == ' ';
}

bool h_request_id_valid(const char *id) {
  size_t n = id != NULL ? strlen(id) : 0;
  if (n == 0 || n > 64) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
      return false;
    }
  }
  return true;
}

bool h_json_depth_ok(const char *text, size_t len, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return false;
      }
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return true;
}

struct h_actor h_actor_of(const struct h_req *rq) {
  struct h_actor a = {
    .id = rq->authenticated ? rq->user_id : NULL,
    .type = rq->authenticated && strcmp(rq->role, "service") == 0 ? "api_key" : "user",
    .ip = rq->ip,
    .request_id = rq->request_id,
    .user_agent = h_req_header(rq, "User-Agent"),
  };
  return a;
}

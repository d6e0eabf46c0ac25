/* webhook_endpoints.c - POST/GET .../webhook-endpoints, DELETE .../{id},
 * POST .../{id}/rotate-secret and .../{id}/enable, for the caller's endpoints (owner: the
 * caller) and the admin's system-wide ones (owner: none). */
#include <string.h>

#include "channels/channels.h"
#include "channels/webhook_endpoint_service.h"
#include "crypto/crypto.h"
#include "http/idempotency.h"
#include "http/request.h"
#include "notifications/notification_input.h"

#define MAX_CATEGORIES 50

/* Validates the categories member (absent or null: every category). */
static const json_t *parse_categories(const json_t *body, struct h_field_errors *fe) {
  const json_t *v = json_object_get(body, "categories");
  if (v == NULL || json_is_null(v)) {
    return NULL;
  }
  if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_CATEGORIES) {
    h_field_error(fe, "categories", "invalid_categories",
                  "Must be a non-empty array of at most %d category names, or null.",
                  MAX_CATEGORIES);
    return NULL;
  }
  size_t i;
  const json_t *c;
  json_array_foreach(v, i, c) {
    if (!json_is_string(c) || !h_category_valid(json_string_value(c))) {
      char p[40];
      snprintf(p, sizeof(p), "categories[%zu]", i);
      h_field_error(fe, p, "invalid_category", "Must be 1-64 of A-Z a-z 0-9 _ . : -.");
    }
  }
  return v;
}

static void create(struct h_req *rq, const char *owner) {
  static const char *const allowed[] = {"url", "format", "description", "categories", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_endpoint_input in = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  in.url = h_field_string(rq->body, "url", true, 2048, &fe);
  in.format = h_field_string(rq->body, "format", false, 16, &fe);
  in.description = h_field_string(rq->body, "description", false, 200, &fe);
  in.categories = parse_categories(rq->body, &fe);
  if (in.format != NULL && !h_endpoint_format_valid(in.format)) {
    h_field_error(&fe, "format", "invalid_format", "Must be json, slack or discord.");
  }
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *endpoint = NULL;
  h_result r = h_endpoint_create(rq->app, &actor, owner, &in, &idem, &endpoint, &err);
  if (r == H_OK) {
    h_reply_json(rq, 201, endpoint);
  } else {
    h_idem_abort(rq->app->db, &idem);
    h_reply_failure(rq, r, &err);
  }
}

static void list(struct h_req *rq, const char *owner) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_endpoint_list(rq->app, owner, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    h_reply_failure(rq, r, NULL);
  }
}

/* The {id} of the path, or NULL after a 404. */
static const char *path_id(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such webhook endpoint.", NULL);
    return NULL;
  }
  return id;
}

/* The reply of an operation on one endpoint. */
static void reply(struct h_req *rq, h_result r, json_t *endpoint, const struct h_error *err) {
  if (r == H_OK && endpoint != NULL) {
    h_reply_json(rq, 200, endpoint);
  } else if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such webhook endpoint.", NULL);
  } else {
    h_reply_failure(rq, r, err);
  }
}

static void remove_one(struct h_req *rq, const char *owner) {
  const char *id = path_id(rq);
  if (id != NULL) {
    struct h_actor actor = h_actor_of(rq);
    reply(rq, h_endpoint_remove(rq->app, &actor, owner, id), NULL, NULL);
  }
}

static void rotate(struct h_req *rq, const char *owner) {
  const char *id = path_id(rq);
  if (id != NULL) {
    struct h_actor actor = h_actor_of(rq);
    json_t *endpoint = NULL;
    h_result r = h_endpoint_rotate(rq->app, &actor, owner, id, &endpoint);
    reply(rq, r, endpoint, NULL);
  }
}

static void enable(struct h_req *rq, const char *owner) {
  const char *id = path_id(rq);
  if (id != NULL) {
    struct h_actor actor = h_actor_of(rq);
    struct h_error err;
    json_t *endpoint = NULL;
    h_result r = h_endpoint_enable(rq->app, &actor, owner, id, &endpoint, &err);
    reply(rq, r, endpoint, &err);
  }
}

void h_me_webhook_endpoints_post(struct h_req *rq) { create(rq, rq->user_id); }
void h_me_webhook_endpoints_get(struct h_req *rq) { list(rq, rq->user_id); }
void h_me_webhook_endpoint_delete(struct h_req *rq) { remove_one(rq, rq->user_id); }
void h_me_webhook_endpoint_rotate_post(struct h_req *rq) { rotate(rq, rq->user_id); }
void h_me_webhook_endpoint_enable_post(struct h_req *rq) { enable(rq, rq->user_id); }
void h_admin_webhook_endpoints_post(struct h_req *rq) { create(rq, NULL); }
void h_admin_webhook_endpoints_get(struct h_req *rq) { list(rq, NULL); }
void h_admin_webhook_endpoint_delete(struct h_req *rq) { remove_one(rq, NULL); }
void h_admin_webhook_endpoint_rotate_post(struct h_req *rq) { rotate(rq, NULL); }
void h_admin_webhook_endpoint_enable_post(struct h_req *rq) { enable(rq, NULL); }

/* devices.c - POST/GET /api/v1/devices, DELETE /api/v1/devices/{id}. */
#include <string.h>

#include "crypto/crypto.h"
#include "notifications/device_service.h"
#include "notifications/notifications.h"
#include "http/idempotency.h"
#include "http/request.h"

void h_devices_post(struct h_req *rq) {
  static const char *const allowed[] = {"token", "platform", "app_version", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_device_input in = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  in.token = h_field_string(rq->body, "token", true, 4096, &fe);
  in.platform = h_field_string(rq->body, "platform", true, 16, &fe);
  in.app_version = h_field_string(rq->body, "app_version", false, 32, &fe);
  if (in.token != NULL && in.token[0] == '\0') {
    h_field_error(&fe, "token", "too_short", "Must not be empty.");
  }
  if (in.platform != NULL && strcmp(in.platform, "ios") != 0 &&
      strcmp(in.platform, "android") != 0 && strcmp(in.platform, "web") != 0) {
    h_field_error(&fe, "platform", "invalid_platform", "Must be ios, android or web.");
  }
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *device = NULL;
  bool created = false;
  h_result r = h_device_register(rq->app, &actor, &in, &idem, &device, &created);
  if (r == H_OK) {
    h_reply_json(rq, created ? 201 : 200, device);
  } else {
    h_idem_abort(rq->app->db, &idem);
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_devices_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_device_list(rq->app, rq->user_id, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_device_delete(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_uuid_valid(id) ? h_device_remove(rq->app, &actor, id) : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such device.", NULL);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

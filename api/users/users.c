/* users.c - /api/v1/users/me and /api/v1/admin/users, /api/v1/admin/api-keys. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"
#include "http/routes.h"
#include "users/users.h"
#include "users/user_service.h"
#include "http/request.h"

static void reply_failure(struct h_req *rq, h_result r) {
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such user.", NULL);
  } else {
    h_reply_error(rq, r, NULL, "The request could not be completed; try again later.", NULL);
  }
}

/* For /users/me: a token whose account is gone is a bad token, whatever the verb. */
static void me_failure(struct h_req *rq, h_result r) {
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "invalid_token", "The account no longer exists.", NULL);
  } else {
    reply_failure(rq, r);
  }
}

void h_me_get(struct h_req *rq) {
  char *body = NULL;
  h_result r = h_user_profile(rq->app, rq->user_id, &body);
  if (r == H_OK) {
    h_reply_text(rq, 200, "application/json", body);
  } else {
    me_failure(rq, r);
  }
  free(body);
}

/* Reads an optional nullable string: *clear is set for an explicit null. */
static const char *nullable(const json_t *body, const char *name, size_t max, bool *clear,
                            struct h_field_errors *fe) {
  *clear = json_is_null(json_object_get(body, name));
  return h_field_string(body, name, false, max, fe);
}

void h_me_patch(struct h_req *rq) {
  static const char *const allowed[] = {"name", "phone", "timezone", "locale", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_profile_patch p = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  p.name = nullable(rq->body, "name", 200, &p.clear_name, &fe);
  p.phone = nullable(rq->body, "phone", 16, &p.clear_phone, &fe);
  p.timezone = h_field_string(rq->body, "timezone", false, 64, &fe);
  p.locale = h_field_string(rq->body, "locale", false, 5, &fe);
  if (p.phone != NULL && !h_valid_phone(p.phone)) {
    h_field_error(&fe, "phone", "invalid_phone", "Must be an E.164 number such as +14155550123.");
  }
  if (p.timezone != NULL && !h_valid_timezone(p.timezone)) {
    h_field_error(&fe, "timezone", "invalid_timezone", "Must be an IANA time zone.");
  }
  if (json_is_null(json_object_get(rq->body, "timezone"))) {
    h_field_error(&fe, "timezone", "invalid_type", "Must be a string.");
  }
  if (p.locale != NULL && !h_valid_locale(p.locale)) {
    h_field_error(&fe, "locale", "invalid_locale", "Must be a locale such as en or pt-BR.");
  }
  if (json_is_null(json_object_get(rq->body, "locale"))) {
    h_field_error(&fe, "locale", "invalid_type", "Must be a string.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *user = NULL;
  h_result r = h_user_update_profile(rq->app, &actor, rq->user_id, &p, &user);
  if (r == H_OK) {
    h_reply_json(rq, 200, user);
  } else {
    me_failure(rq, r);
  }
}

void h_me_delete(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_user_delete(rq->app, &actor, rq->user_id);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else {
    me_failure(rq, r);
  }
}

void h_me_export_get(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  json_t *doc = NULL;
  h_result r = h_user_export(rq->app, &actor, rq->user_id, &doc);
  if (r == H_OK) {
    h_reply_header(rq, "Content-Disposition", "attachment; filename=\"herald-export.json\"");
    h_reply_json(rq, 200, doc);
  } else {
    me_failure(rq, r);
  }
}

static bool one_of(const char *s, const char *a, const char *b, const char *c) {
  return strcmp(s, a) == 0 || strcmp(s, b) == 0 || (c != NULL && strcmp(s, c) == 0);
}

void h_admin_users_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  const char *email = h_req_param(rq, "email");
  const char *role = h_req_param(rq, "role");
  const char *status = h_req_param(rq, "status");
  if (email != NULL && (email[0] == '\0' || strlen(email) > 254)) {
    h_field_error(&fe, "email", "invalid_filter", "Must be 1 to 254 characters.");
  }
  if (role != NULL && !one_of(role, "user", "admin", NULL)) {
    h_field_error(&fe, "role", "invalid_filter", "Must be user or admin.");
  }
  if (status != NULL && !one_of(status, "active", "disabled", "deleted")) {
    h_field_error(&fe, "status", "invalid_filter", "Must be active, disabled or deleted.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_user_list(rq->app, email, role, status, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    reply_failure(rq, r);
  }
}

/* The :id path parameter, or a 404 reply when it is not a UUID. */
static const char *path_id(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such object.", NULL);
    return NULL;
  }
  return id;
}

void h_admin_user_get(struct h_req *rq) {
  const char *id = path_id(rq);
  json_t *user = NULL;
  h_result r = id != NULL ? h_user_get(rq->app, id, &user) : H_OK;
  if (id == NULL) {
    return;
  }
  if (r == H_OK) {
    h_reply_json(rq, 200, user);
  } else {
    reply_failure(rq, r);
  }
}

void h_admin_user_patch(struct h_req *rq) {
  static const char *const allowed[] = {"role", "disabled", NULL};
  const char *id = path_id(rq);
  if (id == NULL || !h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *role = h_field_string(rq->body, "role", false, 16, &fe);
  bool disabled = false;
  bool has_disabled = h_field_bool(rq->body, "disabled", false, &disabled, &fe);
  if (role != NULL && !one_of(role, "user", "admin", NULL)) {
    h_field_error(&fe, "role", "invalid_role", "Must be user or admin.");
  }
  if (h_field_errors_count(&fe) == 0 && role == NULL && !has_disabled) {
    h_field_error(&fe, "role", "nothing_to_update", "Send role and/or disabled.");
  }
  /* UUIDs compare without regard to case: "ABC..." names the same account as "abc...". */
  if (h_field_errors_count(&fe) == 0 && strcasecmp(id, rq->user_id) == 0 &&
      ((role != NULL && strcmp(role, "admin") != 0) || disabled)) {
    h_reply_error(rq, H_ERR_UNPROCESSABLE, "cannot_demote_self",
                  "Admins cannot demote or disable themselves.", NULL);
    return;
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *user = NULL;
  const char *status = has_disabled ? (disabled ? "disabled" : "active") : NULL;
  h_result r = h_user_admin_update(rq->app, &actor, id, role, status, &user);
  if (r == H_OK) {
    h_reply_json(rq, 200, user);
  } else {
    reply_failure(rq, r);
  }
}

void h_api_keys_post(struct h_req *rq) {
  static const char *const allowed[] = {"name", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *name = h_field_string(rq->body, "name", true, 100, &fe);
  if (name != NULL && name[0] == '\0') {
    h_field_error(&fe, "name", "too_short", "Must not be empty.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *key = NULL;
  h_result r = h_api_key_create(rq->app, &actor, name, &key);
  if (r == H_OK) {
    h_reply_json(rq, 201, key);
  } else {
    reply_failure(rq, r);
  }
}

void h_api_keys_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_api_key_list_all(rq->app, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    reply_failure(rq, r);
  }
}

void h_api_keys_delete(struct h_req *rq) {
  const char *id = path_id(rq);
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_api_key_remove(rq->app, &actor, id);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such API key (or already revoked).", NULL);
  } else {
    reply_failure(rq, r);
  }
}

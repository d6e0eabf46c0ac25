/* security.c - the signed-in user's sessions (/api/v1/users/me/sessions) and two-factor
 * authentication (/api/v1/users/me/mfa/totp...). */
#include <string.h>

#include "crypto/crypto.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "users/mfa_service.h"
#include "users/security.h"
#include "users/session_service.h"

#define CODE_MAX 64

static void failure(struct h_req *rq, h_result r, const char *what) {
  char msg[128];
  snprintf(msg, sizeof(msg), "%s failed; try again later.", what);
  h_reply_error(rq, r, NULL, msg, NULL);
}

void h_me_sessions_get(struct h_req *rq) {
  json_t *data = NULL;
  bool more = false;
  h_result r = h_session_list(rq->app, rq->user_id, rq->session_id, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    failure(rq, r, "Listing sessions");
  }
}

void h_me_session_delete(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such session.", NULL);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_session_revoke(rq->app, &actor, rq->user_id, id);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such session.", NULL);
  } else {
    failure(rq, r, "Ending the session");
  }
}

void h_me_sessions_delete(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_session_revoke_all(rq->app, &actor, rq->user_id);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else {
    failure(rq, r, "Ending the sessions");
  }
}

void h_me_mfa_enrol_post(struct h_req *rq) {
  if (rq->body != NULL) {
    static const char *const none[] = {NULL};
    struct h_field_errors fe = {0};
    if (!h_require_object(rq)) {
      return;
    }
    h_reject_unknown(rq->body, none, &fe);
    if (h_field_errors_count(&fe) > 0) {
      h_reply_field_errors(rq, &fe);
      return;
    }
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *out = NULL;
  h_result r = h_mfa_enrol(rq->app, &actor, rq->user_id, &out);
  if (r == H_OK) {
    h_reply_json(rq, 201, out);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "mfa_already_enabled",
                  "Two-factor authentication is already on; disable it first.", NULL);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "invalid_token", "The account no longer exists.", NULL);
  } else {
    failure(rq, r, "Two-factor enrolment");
  }
}

/* An optional factor sent as null is a type error, not an absent field. */
static void reject_nulls(const json_t *body, struct h_field_errors *fe) {
  static const char *const names[] = {"code", "recovery_code"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (json_is_null(json_object_get(body, names[i]))) {
      h_field_error(fe, names[i], "invalid_type", "Must be a string.");
    }
  }
}

/* Reads {"code"} or {"code"|"recovery_code"} (exactly one) or replies 400. */
static bool code_body(struct h_req *rq, bool recovery_allowed, const char **code,
                      const char **recovery_code) {
  static const char *const code_only[] = {"code", NULL};
  static const char *const either[] = {"code", "recovery_code", NULL};
  if (!h_require_object(rq)) {
    return false;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, recovery_allowed ? either : code_only, &fe);
  *code = h_field_string(rq->body, "code", !recovery_allowed, CODE_MAX, &fe);
  *recovery_code = recovery_allowed
                       ? h_field_string(rq->body, "recovery_code", false, CODE_MAX, &fe)
                       : NULL;
  reject_nulls(rq->body, &fe);
  if (h_field_errors_count(&fe) == 0 && recovery_allowed &&
      (*code == NULL) == (*recovery_code == NULL)) {
    h_field_error(&fe, "code", "code_or_recovery_code", "Send code or recovery_code (one).");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return false;
  }
  return true;
}

void h_me_mfa_confirm_post(struct h_req *rq) {
  const char *code = NULL, *unused = NULL;
  if (!code_body(rq, false, &code, &unused)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *out = NULL;
  h_result r = h_mfa_confirm(rq->app, &actor, rq->user_id, code, &out);
  if (r == H_OK) {
    h_reply_json(rq, 200, out);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "mfa_not_pending",
                  "No enrolment is pending: start one with POST /api/v1/users/me/mfa/totp.",
                  NULL);
  } else if (r == H_ERR_UNPROCESSABLE) {
    h_reply_error(rq, r, "invalid_code", "The code is wrong, expired or already used.", "code");
  } else {
    failure(rq, r, "Two-factor confirmation");
  }
}

void h_me_mfa_disable_post(struct h_req *rq) {
  const char *code = NULL, *recovery = NULL;
  if (!code_body(rq, true, &code, &recovery)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_mfa_disable(rq->app, &actor, rq->user_id, code, recovery);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "mfa_not_enabled", "Two-factor authentication is off.", NULL);
  } else if (r == H_ERR_UNPROCESSABLE) {
    h_reply_error(rq, r, "invalid_code", "The code is wrong, expired or already used.",
                  code != NULL ? "code" : "recovery_code");
  } else {
    failure(rq, r, "Disabling two-factor authentication");
  }
}

void h_auth_mfa_verify_post(struct h_req *rq) {
  static const char *const allowed[] = {"challenge", "code", "recovery_code", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *challenge = h_field_string(rq->body, "challenge", true, 128, &fe);
  const char *code = h_field_string(rq->body, "code", false, CODE_MAX, &fe);
  const char *recovery = h_field_string(rq->body, "recovery_code", false, CODE_MAX, &fe);
  reject_nulls(rq->body, &fe);
  if (h_field_errors_count(&fe) == 0 && (code == NULL) == (recovery == NULL)) {
    h_field_error(&fe, "code", "code_or_recovery_code", "Send code or recovery_code (one).");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *tokens = NULL;
  h_result r = h_mfa_login(rq->app, &actor, challenge, code, recovery, &tokens);
  if (r == H_OK) {
    h_reply_json(rq, 200, tokens);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "invalid_challenge",
                  "The challenge is invalid, used or expired: sign in again.", NULL);
  } else if (r == H_ERR_UNAUTHORIZED) {
    h_reply_error(rq, r, "invalid_code", "The code is wrong, expired or already used.", NULL);
  } else {
    failure(rq, r, "Sign-in");
  }
}

/* auth.c - the /api/v1/auth endpoints: parse, validate, call the service, map the result. */
#include <stdio.h>
#include <string.h>

#include "users/auth_service.h"
#include "users/password_policy.h"
#include "auth/auth.h"
#include "http/routes.h"
#include "http/request.h"

#define EMAIL_MAX 254
#define TOKEN_MAX 512

/* Validates a new password into fe under param. */
static void check_password(const char *password, const char *param, struct h_field_errors *fe) {
  const char *code, *message;
  if (password != NULL && h_password_check(password, &code, &message) != H_OK) {
    h_field_error(fe, param, code, "%s", message);
  }
}

static void reply_failure(struct h_req *rq, h_result r, const char *what) {
  char msg[128];
  snprintf(msg, sizeof(msg), "%s failed; try again later.", what);
  h_reply_error(rq, r, NULL, msg, NULL);
}

void h_auth_register_post(struct h_req *rq) {
  static const char *const allowed[] = {"email", "password", "name", "phone", "timezone",
                                        "locale", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  struct h_user_input in = {0};
  in.email = h_field_string(rq->body, "email", true, EMAIL_MAX, &fe);
  const char *password = h_field_string(rq->body, "password", true, 1024, &fe);
  in.name = h_field_string(rq->body, "name", false, 200, &fe);
  in.phone = h_field_string(rq->body, "phone", false, 16, &fe);
  in.timezone = h_field_string(rq->body, "timezone", false, 64, &fe);
  in.locale = h_field_string(rq->body, "locale", false, 5, &fe);
  if (in.email != NULL && !h_valid_email(in.email)) {
    h_field_error(&fe, "email", "invalid_email", "Must be an e-mail address.");
  }
  check_password(password, "password", &fe);
  if (in.phone != NULL && !h_valid_phone(in.phone)) {
    h_field_error(&fe, "phone", "invalid_phone", "Must be an E.164 number such as +14155550123.");
  }
  if (in.timezone != NULL && !h_valid_timezone(in.timezone)) {
    h_field_error(&fe, "timezone", "invalid_timezone", "Must be an IANA time zone.");
  }
  if (in.locale != NULL && !h_valid_locale(in.locale)) {
    h_field_error(&fe, "locale", "invalid_locale", "Must be a locale such as en or pt-BR.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_register(rq->app, &actor, &in, password);
  if (r == H_OK) {
    /* The same answer whether the address was free or taken. */
    h_reply_json(rq, 202, json_pack("{ss}", "status", "accepted"));
  } else {
    reply_failure(rq, r, "Registration");
  }
}

void h_auth_login_post(struct h_req *rq) {
  static const char *const allowed[] = {"email", "password", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *email = h_field_string(rq->body, "email", true, EMAIL_MAX, &fe);
  const char *password = h_field_string(rq->body, "password", true, 1024, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *out = NULL;
  bool mfa = false;
  int retry_after = 0;
  h_result r = h_auth_login(rq->app, &actor, email, password, &out, &mfa, &retry_after);
  if (r == H_OK) {
    h_reply_json(rq, mfa ? 202 : 200, out); /* 202: a second factor is needed */
  } else if (r == H_ERR_UNAUTHORIZED) {
    h_reply_error(rq, r, "invalid_credentials", "The e-mail or password is wrong.", NULL);
  } else if (r == H_ERR_RATE_LIMITED) {
    char retry[16];
    snprintf(retry, sizeof(retry), "%d", retry_after);
    h_reply_header(rq, "Retry-After", retry);
    h_reply_error(rq, r, "account_locked",
                  "Too many failed sign-ins; the account is locked for a while.", NULL);
  } else if (r == H_ERR_FORBIDDEN) {
    h_reply_error(rq, r, "account_disabled", "This account is disabled.", NULL);
  } else {
    reply_failure(rq, r, "Sign-in");
  }
}

/* Reads {"refresh_token": "..."} (the only member) or replies 400. */
static const char *refresh_token_of(struct h_req *rq) {
  static const char *const allowed[] = {"refresh_token", NULL};
  if (!h_require_object(rq)) {
    return NULL;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *token = h_field_string(rq->body, "refresh_token", true, TOKEN_MAX, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return NULL;
  }
  return token;
}

void h_auth_refresh_post(struct h_req *rq) {
  const char *token = refresh_token_of(rq);
  if (token == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *tokens = NULL;
  h_result r = h_auth_refresh(rq->app, &actor, token, &tokens);
  if (r == H_OK) {
    h_reply_json(rq, 200, tokens);
  } else if (r == H_ERR_UNAUTHORIZED) {
    h_reply_error(rq, r, "invalid_refresh_token",
                  "The refresh token is invalid, expired or already used.", NULL);
  } else {
    reply_failure(rq, r, "Token refresh");
  }
}

void h_auth_logout_post(struct h_req *rq) {
  const char *token = refresh_token_of(rq);
  if (token == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_logout(rq->app, &actor, token);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else {
    reply_failure(rq, r, "Sign-out");
  }
}

void h_auth_reset_post(struct h_req *rq) {
  static const char *const allowed[] = {"email", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *email = h_field_string(rq->body, "email", true, EMAIL_MAX, &fe);
  if (email != NULL && !h_valid_email(email)) {
    h_field_error(&fe, "email", "invalid_email", "Must be an e-mail address.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_request_reset(rq->app, &actor, email);
  if (r == H_OK) {
    h_reply_json(rq, 202, json_pack("{ss}", "status", "accepted"));
  } else {
    reply_failure(rq, r, "Password reset");
  }
}

/* Reads {"token", new-password field?}; token_param and password_param name them. */
static bool token_body(struct h_req *rq, const char *password_param, const char **token,
                       const char **password) {
  const char *const with_password[] = {"token", password_param, NULL};
  const char *const token_only[] = {"token", NULL};
  if (!h_require_object(rq)) {
    return false;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, password_param != NULL ? with_password : token_only, &fe);
  *token = h_field_string(rq->body, "token", true, TOKEN_MAX, &fe);
  if (password_param != NULL) {
    *password = h_field_string(rq->body, password_param, true, 1024, &fe);
    check_password(*password, password_param, &fe);
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return false;
  }
  return true;
}

void h_auth_reset_confirm_post(struct h_req *rq) {
  const char *token = NULL, *password = NULL;
  if (!token_body(rq, "new_password", &token, &password)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_confirm_reset(rq->app, &actor, token, password);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_INVALID, "invalid_token", "The token is invalid, used or expired.",
                  "token");
  } else {
    reply_failure(rq, r, "Password reset");
  }
}

void h_auth_verify_email_post(struct h_req *rq) {
  const char *token = NULL, *unused = NULL;
  if (!token_body(rq, NULL, &token, &unused)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_verify_email(rq->app, &actor, token);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_INVALID, "invalid_token", "The token is invalid, used or expired.",
                  "token");
  } else {
    reply_failure(rq, r, "E-mail verification");
  }
}

void h_me_password_post(struct h_req *rq) {
  static const char *const allowed[] = {"current_password", "new_password", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *current = h_field_string(rq->body, "current_password", true, 1024, &fe);
  const char *next = h_field_string(rq->body, "new_password", true, 1024, &fe);
  check_password(next, "new_password", &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_change_password(rq->app, &actor, rq->user_id, current, next);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_FORBIDDEN) {
    h_reply_error(rq, r, "incorrect_password", "The current password is wrong.",
                  "current_password");
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "invalid_token", "The account no longer exists.", NULL);
  } else {
    reply_failure(rq, r, "Password change");
  }
}

void h_auth_verify_resend_post(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_auth_resend_verification(rq->app, &actor);
  if (r == H_OK) {
    h_reply_json(rq, 202, json_pack("{ssss}", "object", "email_verification", "status", "sent"));
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "email_already_verified", "The e-mail address is already verified.",
                  NULL);
  } else {
    reply_failure(rq, r, "Sending the verification e-mail");
  }
}

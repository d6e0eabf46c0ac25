/* authn.c - bearer credentials: JWT access tokens and hashed API keys. */
#include "http/authn.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/text.h"
#include "crypto/crypto.h"
#include "users/token_epoch.h"
#include "users/user_service.h"
#include "core/log.h"

static bool unauthorized(struct h_req *rq, const char *code, const char *message) {
  h_reply_header(rq, "WWW-Authenticate", "Bearer realm=\"herald\"");
  h_reply_error(rq, H_ERR_UNAUTHORIZED, code, message, NULL);
  return false;
}

/* Looks up an API key by its hash; fills rq as role "service". */
static bool api_key(struct h_req *rq, const char *key) {
  h_result r = h_api_key_verify(rq->app, key, rq->user_id);
  if (r != H_OK && r != H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, NULL, "Credentials could not be checked.", NULL);
    return false;
  }
  if (r == H_OK) {
    snprintf(rq->role, sizeof(rq->role), "service");
    rq->authenticated = true;
  } else {
    h_log(H_LOG_WARNING, "security", rq->request_id, "unknown or revoked API key from %s",
          rq->ip);
    return unauthorized(rq, "invalid_api_key", "The API key is invalid or revoked.");
  }
  return true;
}

static bool access_token(struct h_req *rq, const char *token) {
  struct h_jwt_claims claims;
  if (h_jwt_verify_cached(rq->app->jwt_cache, &rq->app->jwt, token, (long)time(NULL),
                          &claims) != H_OK) {
    h_log(H_LOG_WARNING, "security", rq->request_id, "invalid access token from %s", rq->ip);
    return unauthorized(rq, "invalid_token", "The access token is invalid or expired.");
  }
  h_result r = h_token_epoch_check(rq->app, claims.sub, claims.epoch);
  if (r == H_ERR_UNAUTHORIZED) {
    h_log(H_LOG_WARNING, "security", rq->request_id, "ended access token from %s", rq->ip);
    return unauthorized(rq, "invalid_token", "The access token is invalid or expired.");
  }
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "Credentials could not be checked.", NULL);
    return false;
  }
  h_copy(rq->user_id, sizeof(rq->user_id), claims.sub);
  h_copy(rq->role, sizeof(rq->role), claims.role);
  h_copy(rq->session_id, sizeof(rq->session_id), claims.sid);
  rq->mfa = claims.mfa;
  rq->token_epoch = claims.epoch;
  rq->token_exp = claims.exp;
  rq->authenticated = true;
  return true;
}

bool h_authenticate(struct h_req *rq, enum h_auth need) {
  if (need == H_AUTH_NONE) {
    return true;
  }
  const char *header = h_req_header(rq, "Authorization");
  if (header == NULL || strncmp(header, "Bearer ", 7) != 0 || header[7] == '\0') {
    return unauthorized(rq, "missing_token", "Send \"Authorization: Bearer <token>\".");
  }
  const char *credential = header + 7;
  bool ok = strncmp(credential, H_API_KEY_PREFIX, strlen(H_API_KEY_PREFIX)) == 0
                ? api_key(rq, credential)
                : access_token(rq, credential);
  if (!ok) {
    return false;
  }
  bool is_admin = strcmp(rq->role, "admin") == 0;
  bool is_service = strcmp(rq->role, "service") == 0;
  bool allowed = need == H_AUTH_USER    ? !is_service
                 : need == H_AUTH_ADMIN ? is_admin
                                        : is_admin || is_service; /* H_AUTH_SERVICE */
  if (allowed && is_admin && need != H_AUTH_USER && !rq->mfa &&
      rq->app->cfg->mfa_required_for_admins) {
    h_reply_error(rq, H_ERR_FORBIDDEN, "mfa_required",
                  "Admin endpoints need a sign-in with two-factor authentication: enable it"
                  " (POST /api/v1/users/me/mfa/totp) and sign in again.",
                  NULL);
    return false;
  }
  if (!allowed) {
    h_reply_error(rq, H_ERR_FORBIDDEN, "forbidden",
                  is_service ? "API keys cannot call this endpoint."
                             : "Your role does not allow this.",
                  NULL);
    return false;
  }
  return true;
}

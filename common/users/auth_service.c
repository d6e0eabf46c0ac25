/* auth_service.c - sign-up, sign-in, token rotation, password and e-mail flows. */
#include "users/auth_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"
#include "alerts/security_alert.h"
#include "notifications/outbox.h"
#include "users/auth_common.h"
#include "users/mfa_service.h"
#include "users/profile_cache.h"
#include "users/token_epoch.h"
#include "users/token_repo.h"
#include "users/totp_repo.h"

/* A hash to verify against when the e-mail is unknown, so both answers take as long. */
static char *dummy_hash;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void make_dummy(void) { h_password_hash("herald-timing-equaliser", &dummy_hash); }

/* Creates a one-time token and its e-mail in the open transaction. */
static h_result one_time_email(struct h_app *app, PGconn *conn, const char *user_id,
                               const char *kind, int ttl, char delivery[37]) {
  char hash[65];
  char *token = h_auth_new_secret("", hash);
  if (token == NULL) {
    return H_ERR_INTERNAL;
  }
  bool reset = strcmp(kind, "password_reset") == 0;
  char *url = h_sprintf("%s/%s?token=%s", app->cfg->public_url,
                        reset ? "reset-password" : "verify-email", token);
  char *body = h_sprintf(reset ? "Someone asked to reset your Herald password. Open %s within "
                                 "%d minutes to choose a new one. If it was not you, ignore this."
                               : "Confirm your e-mail address by opening %s (valid %d minutes).",
                         url, ttl / 60);
  json_t *data = json_pack("{ss}", "action_url", url); /* what the e-mail needs, no more */
  h_result r = h_ott_revoke_kind(conn, user_id, kind); /* a new link ends the older ones */
  if (r == H_OK) {
    r = h_ott_insert(conn, user_id, kind, hash, ttl);
  }
  if (r == H_OK) {
    r = h_outbox_email(conn, user_id, "account", kind,
                       reset ? "Reset your password" : "Confirm your e-mail address", body, data,
                       delivery);
  }
  if (r == H_OK) {
    r = h_outbox_mark_sensitive(conn, delivery);
  }
  json_decref(data);
  free(body);
  free(url);
  free(token);
  return r;
}

/* The registration of a new account in conn's transaction: the user, its verification
 * e-mail (delivery) and the audit row. H_ERR_CONFLICT when the e-mail is taken. */
static h_result create_account(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                               const struct h_user_input *in, char delivery[37]) {
  json_t *user = NULL;
  h_result r = h_user_repo_insert(conn, in, &user);
  const char *id = json_string_value(json_object_get(user, "id"));
  if (r == H_OK) {
    r = one_time_email(app, conn, id, "email_verification", app->cfg->verify_token_ttl_s,
                       delivery);
  }
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = id;
    r = h_audit_write(conn, &self, "user.registered", "user", id, NULL, false);
  }
  json_decref(user);
  return r;
}

/* Someone registered an address that has an account: its owner hears of it by e-mail
 * (delivery), in conn's transaction; nothing else changes. */
static h_result tell_owner(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                           const char *email, char delivery[37]) {
  struct h_login_row row;
  h_result r = h_user_repo_login_row(conn, email, &row);
  if (r != H_OK) {
    return r == H_ERR_NOT_FOUND ? H_OK : r; /* deleted meanwhile: nobody to tell */
  }
  free(row.password_hash);
  char *body = h_sprintf("Someone tried to create a Herald account with this e-mail address,"
                         " which already has one. If it was you, sign in at %s, or reset your"
                         " password there if you forgot it. If it was not you, ignore this:"
                         " nothing changed.",
                         app->cfg->public_url);
  json_t *data = json_pack("{ss}", "action_url", app->cfg->public_url);
  r = h_outbox_email(conn, row.id, "account", "registration_attempt",
                     "Someone tried to register your address", body, data, delivery);
  json_decref(data);
  free(body);
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = NULL;
    r = h_audit_write(conn, &self, "user.registration_attempted", "user", row.id, NULL, true);
  }
  return r;
}

h_result h_auth_register(struct h_app *app, const struct h_actor *actor,
                         const struct h_user_input *input, const char *password) {
  char *hash = NULL;
  PGconn *conn = NULL;
  char delivery[37] = "";
  /* Hashed either way, so both answers take as long. */
  if (h_password_hash(password, &hash) != H_OK) {
    return H_ERR_INTERNAL;
  }
  struct h_user_input in = *input;
  in.password_hash = hash;
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = create_account(app, conn, actor, &in, delivery);
  }
  if (r == H_ERR_CONFLICT) {
    h_db_tx_finish(app->db, conn, r); /* rolls back */
    conn = NULL;
    delivery[0] = '\0';
    r = h_db_tx_begin(app->db, &conn);
    if (r == H_OK) {
      r = tell_owner(app, conn, actor, input->email, delivery);
    }
  }
  r = h_db_tx_finish(app->db, conn, r);
  free(hash);
  if (r == H_OK && delivery[0] != '\0') {
    const char *ids[] = {delivery};
    h_outbox_push(app, H_QUEUE_EMAIL, ids, 1, actor->request_id);
  }
  return r;
}

/* Records a failed attempt against an existing account; *retry_after > 0 when another
 * attempt had locked it meanwhile (the answer is then the lock, not a wrong password). */
static h_result login_failed(PGconn *conn, const struct h_app *app, const struct h_actor *actor,
                             const char *id, int *retry_after) {
  struct h_login_failure f;
  const struct h_config *cfg = app->cfg;
  h_result r = h_user_repo_login_failed(conn, id, cfg->lockout_threshold, cfg->lockout_window_s,
                                        cfg->lockout_duration_s, &f);
  if (r == H_OK && f.was_locked) {
    *retry_after = f.locked_for_s > 0 ? f.locked_for_s : 1;
    return h_audit_write(conn, actor, "auth.login_locked_out", "user", id, NULL, true);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, actor, "auth.login_failed", "user", id, NULL, true);
  }
  if (r == H_OK && f.locked_now) {
    json_t *d = json_pack("{si}", "locked_for_s", cfg->lockout_duration_s);
    r = h_audit_write(conn, actor, "auth.account_locked", "user", id, d, true);
    json_decref(d);
  }
  return r;
}

/* After a successful verify: a hash made with older scrypt parameters is replaced by
 * one with the current parameters. */
static h_result upgrade_hash(PGconn *conn, const char *id, const char *stored,
                             const char *password) {
  char *fresh = NULL;
  if (!h_password_needs_rehash(stored)) {
    return H_OK;
  }
  if (h_password_hash(password, &fresh) != H_OK) {
    return H_ERR_INTERNAL;
  }
  h_result r = h_user_repo_rehash(conn, id, stored, fresh);
  free(fresh);
  return r;
}

/* Checks email and password in conn's transaction (audit rows and the failure count are
 * written there, to be committed whatever the verdict). *verdict: H_OK for an active
 * account with the right password (row filled, its hash upgraded when old),
 * H_ERR_UNAUTHORIZED, H_ERR_RATE_LIMITED (*retry_after set) or H_ERR_FORBIDDEN. The
 * return value is the database's result. row->password_hash is freed here. */
static h_result check_credentials(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                                  const char *email, const char *password,
                                  struct h_login_row *row, h_result *verdict, int *retry_after) {
  h_result r = h_user_repo_login_row(conn, email, row);
  if (r == H_ERR_NOT_FOUND) {
    pthread_once(&dummy_once, make_dummy);
    h_password_verify(password, dummy_hash);
    char masked[128];
    h_mask_email(email, masked, sizeof(masked));
    h_log(H_LOG_WARNING, "security", actor->request_id, "login failed for unknown %s from %s",
          masked, actor->ip);
    *verdict = H_ERR_UNAUTHORIZED;
    return H_OK;
  }
  if (r != H_OK) {
    return r;
  }
  struct h_actor self = *actor;
  self.id = row->id;
  if (row->locked_for_s > 0) {
    *retry_after = row->locked_for_s;
    *verdict = H_ERR_RATE_LIMITED;
    r = h_audit_write(conn, &self, "auth.login_locked_out", "user", row->id, NULL, true);
  } else if (!h_password_verify(password, row->password_hash)) {
    r = login_failed(conn, app, &self, row->id, retry_after);
    *verdict = *retry_after > 0 ? H_ERR_RATE_LIMITED : H_ERR_UNAUTHORIZED;
  } else if (strcmp(row->status, "active") != 0) {
    *verdict = H_ERR_FORBIDDEN;
    r = h_audit_write(conn, &self, "auth.login_disabled", "user", row->id, NULL, true);
  } else {
    *verdict = H_OK;
    r = h_user_repo_login_succeeded(conn, row->id);
    if (r == H_OK) {
      r = upgrade_hash(conn, row->id, row->password_hash, password);
    }
  }
  free(row->password_hash);
  row->password_hash = NULL;
  return r;
}

h_result h_auth_login(struct h_app *app, const struct h_actor *actor, const char *email,
                      const char *password, json_t **out, bool *mfa_required,
                      int *retry_after) {
  struct h_login_row row;
  PGconn *conn = NULL;
  h_result verdict = H_OK;
  struct h_push_list alerts = {0};
  *out = NULL;
  *mfa_required = false;
  *retry_after = 0;
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = check_credentials(app, conn, actor, email, password, &row, &verdict, retry_after);
  }
  if (r != H_OK || verdict != H_OK) {
    r = h_db_tx_finish(app->db, conn, r);
    return r == H_OK ? verdict : r;
  }
  struct h_actor self = *actor;
  self.id = row.id;
  r = h_totp_repo_enabled(conn, row.id, mfa_required);
  if (r == H_OK && *mfa_required) {
    r = h_mfa_challenge_issue(app, conn, &self, row.id, out);
  } else if (r == H_OK) {
    const struct h_auth_grant g = {.user_id = row.id, .role = row.role, .epoch = row.token_epoch};
    r = h_auth_issue_pair(app, conn, &g, &self, out);
    if (r == H_OK) {
      r = h_audit_write(conn, &self, "auth.login", "user", row.id, NULL, true);
    }
    if (r == H_OK) {
      r = h_security_sign_in(conn, row.id, &self, &alerts);
    }
  }
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, row.id, &alerts, actor->request_id);
  if (r != H_OK) {
    json_decref(*out);
    *out = NULL;
  }
  return r;
}

h_result h_auth_refresh(struct h_app *app, const struct h_actor *actor, const char *refresh_token,
                        json_t **tokens) {
  char hash[65];
  struct h_refresh_row row;
  PGconn *conn = NULL;
  *tokens = NULL;
  h_sha256_hex(refresh_token, strlen(refresh_token), hash);
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_refresh_lock(conn, hash, &row);
  }
  if (r == H_ERR_NOT_FOUND) {
    h_db_tx_finish(app->db, conn, r);
    return H_ERR_UNAUTHORIZED;
  }
  if (r != H_OK) {
    return h_db_tx_finish(app->db, conn, r);
  }
  struct h_actor self = *actor;
  self.id = row.user_id;
  if (row.used || row.revoked) {
    /* A rotated token presented again: someone holds a copy. Revoke the family. */
    r = h_refresh_revoke_family(conn, row.family_id);
    if (r == H_OK && row.used) {
      json_t *d = json_pack("{ss}", "family_id", row.family_id);
      r = h_audit_write(conn, &self, "auth.refresh_token_reused", "user", row.user_id, d, true);
      json_decref(d);
      struct h_push_list alerts = {0};
      if (r == H_OK) {
        r = h_security_alert(conn, row.user_id, H_SEC_TOKEN_REUSE, actor, NULL, &alerts);
      }
      r = h_db_tx_finish(app->db, conn, r);
      h_security_alert_push(app, r, row.user_id, &alerts, actor->request_id);
      return r == H_OK ? H_ERR_UNAUTHORIZED : r;
    }
    r = h_db_tx_finish(app->db, conn, r);
    return r == H_OK ? H_ERR_UNAUTHORIZED : r;
  }
  if (row.expired || strcmp(row.user_status, "active") != 0) {
    h_db_tx_finish(app->db, conn, H_ERR_UNAUTHORIZED);
    return H_ERR_UNAUTHORIZED;
  }
  r = h_refresh_mark_used(conn, row.id);
  if (r == H_OK) {
    const struct h_auth_grant g = {.user_id = row.user_id, .role = row.role,
                                   .family = row.family_id, .epoch = row.token_epoch,
                                   .mfa = row.mfa};
    r = h_auth_issue_pair(app, conn, &g, &self, tokens);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r != H_OK) {
    json_decref(*tokens);
    *tokens = NULL;
  }
  return r;
}

h_result h_auth_logout(struct h_app *app, const struct h_actor *actor, const char *refresh_token) {
  char hash[65];
  struct h_refresh_row row;
  PGconn *conn = NULL;
  h_sha256_hex(refresh_token, strlen(refresh_token), hash);
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_refresh_lock(conn, hash, &row);
  }
  if (r == H_ERR_NOT_FOUND) {
    h_db_tx_finish(app->db, conn, r);
    return H_OK;
  }
  if (r == H_OK) {
    r = h_refresh_revoke_family(conn, row.family_id);
  }
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = row.user_id;
    r = h_audit_write(conn, &self, "auth.logout", "user", row.user_id, NULL, false);
  }
  return h_db_tx_finish(app->db, conn, r);
}

h_result h_auth_request_reset(struct h_app *app, const struct h_actor *actor, const char *email) {
  struct h_login_row row;
  PGconn *conn = NULL;
  char delivery[37] = "";
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_user_repo_login_row(conn, email, &row);
  }
  if (r == H_ERR_NOT_FOUND) {
    h_db_tx_finish(app->db, conn, r);
    return H_OK; /* the same 202 whether or not the account exists */
  }
  if (r == H_OK) {
    free(row.password_hash);
    if (strcmp(row.status, "active") != 0) {
      h_db_tx_finish(app->db, conn, H_ERR_NOT_FOUND);
      return H_OK;
    }
    r = one_time_email(app, conn, row.id, "password_reset", app->cfg->reset_token_ttl_s,
                       delivery);
  }
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = row.id;
    r = h_audit_write(conn, &self, "auth.password_reset_requested", "user", row.id, NULL, true);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r == H_OK) {
    const char *ids[] = {delivery};
    h_outbox_push(app, H_QUEUE_EMAIL, ids, 1, actor->request_id);
  }
  return r;
}

/* Sets a new password and revokes every refresh token of user_id, in conn's transaction,
 * with its security alert (ids appended to alerts). */
static h_result replace_password(PGconn *conn, const struct h_actor *actor, const char *user_id,
                                 const char *new_password, enum h_security_event ev,
                                 struct h_push_list *alerts) {
  char *hash = NULL;
  if (h_password_hash(new_password, &hash) != H_OK) {
    return H_ERR_INTERNAL;
  }
  h_result r = h_user_repo_set_password(conn, user_id, hash);
  free(hash);
  if (r == H_OK) {
    r = h_refresh_revoke_user(conn, user_id);
  }
  if (r == H_OK) {
    r = h_user_repo_bump_epoch(conn, user_id, NULL);
  }
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = user_id;
    r = h_audit_write(conn, &self, ev == H_SEC_PASSWORD_RESET ? "auth.password_reset"
                                                               : "auth.password_changed",
                      "user", user_id, NULL, true);
  }
  return r == H_OK ? h_security_alert(conn, user_id, ev, actor, NULL, alerts) : r;
}

h_result h_auth_confirm_reset(struct h_app *app, const struct h_actor *actor, const char *token,
                              const char *new_password) {
  char hash[65], user_id[37];
  PGconn *conn = NULL;
  struct h_push_list alerts = {0};
  h_sha256_hex(token, strlen(token), hash);
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_ott_consume(conn, "password_reset", hash, user_id);
  }
  if (r == H_OK) {
    r = replace_password(conn, actor, user_id, new_password, H_SEC_PASSWORD_RESET, &alerts);
  }
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, user_id, &alerts, actor->request_id);
  if (r == H_OK) {
    h_token_epoch_forget(app, user_id);
  }
  return r;
}

h_result h_auth_verify_email(struct h_app *app, const struct h_actor *actor, const char *token) {
  char hash[65], user_id[37];
  PGconn *conn = NULL;
  h_sha256_hex(token, strlen(token), hash);
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_ott_consume(conn, "email_verification", hash, user_id);
  }
  if (r == H_OK) {
    r = h_user_repo_mark_verified(conn, user_id);
  }
  if (r == H_OK) {
    struct h_actor self = *actor;
    self.id = user_id;
    r = h_audit_write(conn, &self, "user.email_verified", "user", user_id, NULL, false);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r == H_OK) {
    h_copy_cache_drop(app->profiles, user_id);
  }
  return r;
}

h_result h_auth_change_password(struct h_app *app, const struct h_actor *actor,
                                const char *user_id, const char *current,
                                const char *new_password) {
  char *stored = NULL;
  PGconn *conn = NULL;
  struct h_push_list alerts = {0};
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_user_repo_password_hash(conn, user_id, &stored);
  }
  if (r == H_OK && !h_password_verify(current, stored)) {
    h_audit_write(conn, actor, "auth.password_change_failed", "user", user_id, NULL, true);
    r = h_db_tx_finish(app->db, conn, H_OK); /* keep the audit row */
    conn = NULL;
    r = r == H_OK ? H_ERR_FORBIDDEN : r;
  }
  free(stored);
  if (r == H_OK) {
    r = replace_password(conn, actor, user_id, new_password, H_SEC_PASSWORD_CHANGED, &alerts);
  }
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, user_id, &alerts, actor->request_id);
  if (r == H_OK) {
    h_token_epoch_forget(app, user_id);
  }
  return r;
}

static h_result resend_tx(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                          char delivery[37]) {
  json_t *user = NULL;
  h_result r = h_user_repo_get(conn, actor->id, &user);
  if (r == H_OK && json_is_true(json_object_get(user, "email_verified"))) {
    r = H_ERR_CONFLICT;
  }
  json_decref(user);
  if (r == H_OK) {
    r = one_time_email(app, conn, actor->id, "email_verification",
                       app->cfg->verify_token_ttl_s, delivery);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, actor, "auth.verification_resent", "user", actor->id, NULL, true);
  }
  return r;
}

h_result h_auth_resend_verification(struct h_app *app, const struct h_actor *actor) {
  PGconn *conn = NULL;
  char delivery[37] = "";
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = resend_tx(app, conn, actor, delivery);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r == H_OK) {
    const char *ids[] = {delivery};
    h_outbox_push(app, H_QUEUE_EMAIL, ids, 1, actor->request_id);
  }
  return r;
}

/* mfa_service.c - TOTP enrolment, recovery codes and the second step of a sign-in. */
#include "users/mfa_service.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts/security_alert.h"
#include "core/alloc.h"
#include "crypto/crypto.h"
#include "users/auth_common.h"
#include "users/totp.h"
#include "users/totp_repo.h"
#include "users/user_repo.h"

#define ISSUER "Herald"
#define DRIFT_STEPS 1
#define RECOVERY_BYTES 10 /* 16 base32 characters, shown as XXXX-XXXX-XXXX-XXXX */

static uint64_t now_step(void) { return h_totp_step((long long)time(NULL)); }

/* The SHA-256 hex of a recovery code, ignoring case, spaces and dashes. */
static void recovery_hash(const char *code, char hash[65]) {
  char norm[64];
  size_t n = 0;
  for (const char *p = code; *p != '\0' && n < sizeof(norm) - 1; p++) {
    if (*p != '-' && *p != ' ') {
      norm[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
  }
  norm[n] = '\0';
  h_sha256_hex(norm, n, hash);
}

/* Checks code against secret (base32) after not_after; *step receives its step. */
static bool code_ok(const char *secret, const char *code, uint64_t not_after, uint64_t *step) {
  unsigned char key[64];
  int n = h_base32_decode(secret, key, sizeof(key));
  bool ok = n > 0 && h_totp_verify(key, (size_t)n, code, now_step(), DRIFT_STEPS, not_after,
                                   step);
  OPENSSL_cleanse(key, sizeof(key));
  return ok;
}

h_result h_mfa_enrol(struct h_app *app, const struct h_actor *actor, const char *user_id,
                     json_t **out) {
  unsigned char key[H_TOTP_SECRET_BYTES];
  char secret[H_BASE32_LEN(H_TOTP_SECRET_BYTES)];
  json_t *user = NULL;
  PGconn *conn = NULL;
  *out = NULL;
  if (h_random_bytes(key, sizeof(key)) != H_OK) {
    return H_ERR_INTERNAL;
  }
  h_base32_encode(key, sizeof(key), secret);
  OPENSSL_cleanse(key, sizeof(key));
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_user_repo_get(conn, user_id, &user);
  }
  if (r == H_OK) {
    r = h_totp_repo_put_pending(conn, user_id, secret);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, actor, "auth.mfa_enrolment_started", "user", user_id, NULL, true);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r == H_OK) {
    char *uri = h_totp_uri(ISSUER, json_string_value(json_object_get(user, "email")), secret);
    *out = json_pack("{sssssssisi}", "object", "totp_enrollment", "secret", secret,
                     "otpauth_uri", uri, "digits", H_TOTP_DIGITS, "period", H_TOTP_PERIOD_S);
    free(uri);
  }
  json_decref(user);
  return r;
}

/* Makes n recovery codes into codes (a new array) and stores their hashes. */
static h_result new_recovery_codes(PGconn *conn, const char *user_id, json_t **codes) {
  char hashes[H_MFA_RECOVERY_CODES][65];
  *codes = json_array();
  for (int i = 0; i < H_MFA_RECOVERY_CODES; i++) {
    unsigned char raw[RECOVERY_BYTES];
    char b32[H_BASE32_LEN(RECOVERY_BYTES)], shown[24];
    if (h_random_bytes(raw, sizeof(raw)) != H_OK) {
      return H_ERR_INTERNAL;
    }
    h_base32_encode(raw, sizeof(raw), b32);
    snprintf(shown, sizeof(shown), "%.4s-%.4s-%.4s-%.4s", b32, b32 + 4, b32 + 8, b32 + 12);
    recovery_hash(shown, hashes[i]);
    json_array_append_new(*codes, json_string(shown));
  }
  return h_recovery_repo_replace(conn, user_id, hashes, H_MFA_RECOVERY_CODES);
}

h_result h_mfa_confirm(struct h_app *app, const struct h_actor *actor, const char *user_id,
                       const char *code, json_t **out) {
  struct h_totp_row row;
  PGconn *conn = NULL;
  json_t *codes = NULL;
  uint64_t step = 0;
  *out = NULL;
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_totp_repo_lock(conn, user_id, &row);
    r = r == H_ERR_NOT_FOUND || (r == H_OK && row.confirmed) ? H_ERR_CONFLICT : r;
  }
  if (r == H_OK && !code_ok(row.secret, code, row.last_step, &step)) {
    r = H_ERR_UNPROCESSABLE;
  }
  if (r == H_OK) {
    r = h_totp_repo_confirm(conn, user_id, step);
  }
  if (r == H_OK) {
    r = new_recovery_codes(conn, user_id, &codes);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, actor, "auth.mfa_enabled", "user", user_id, NULL, true);
  }
  struct h_push_list alerts = {0};
  if (r == H_OK) {
    r = h_security_alert(conn, user_id, H_SEC_MFA_ENABLED, actor, NULL, &alerts);
  }
  OPENSSL_cleanse(row.secret, sizeof(row.secret));
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, user_id, &alerts, actor->request_id);
  if (r == H_OK) {
    *out = json_pack("{ssso}", "object", "recovery_codes", "codes", codes);
  } else {
    json_decref(codes);
  }
  return r;
}

/* Checks a second factor of user_id (row locked) in conn's transaction, using it up:
 * H_OK, H_ERR_UNAUTHORIZED when wrong; *how names the factor for the audit row. */
static h_result second_factor(PGconn *conn, const char *user_id, const struct h_totp_row *row,
                              const char *code, const char *recovery_code, const char **how) {
  uint64_t step = 0;
  if (code != NULL) {
    *how = "totp";
    if (!code_ok(row->secret, code, row->last_step, &step)) {
      return H_ERR_UNAUTHORIZED;
    }
    h_result r = h_totp_repo_use_step(conn, user_id, step);
    return r == H_ERR_CONFLICT ? H_ERR_UNAUTHORIZED : r;
  }
  char hash[65];
  int left = 0;
  *how = "recovery_code";
  recovery_hash(recovery_code, hash);
  h_result r = h_recovery_repo_use(conn, user_id, hash, &left);
  return r == H_ERR_NOT_FOUND ? H_ERR_UNAUTHORIZED : r;
}

h_result h_mfa_disable(struct h_app *app, const struct h_actor *actor, const char *user_id,
                       const char *code, const char *recovery_code) {
  struct h_totp_row row;
  PGconn *conn = NULL;
  const char *how = NULL;
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_totp_repo_lock(conn, user_id, &row);
    r = r == H_ERR_NOT_FOUND || (r == H_OK && !row.confirmed) ? H_ERR_CONFLICT : r;
  }
  if (r == H_OK) {
    r = second_factor(conn, user_id, &row, code, recovery_code, &how);
    if (r == H_ERR_UNAUTHORIZED) {
      h_audit_write(conn, actor, "auth.mfa_disable_failed", "user", user_id, NULL, true);
      r = h_db_tx_finish(app->db, conn, H_OK);
      return r == H_OK ? H_ERR_UNPROCESSABLE : r;
    }
  }
  if (r == H_OK) {
    r = h_totp_repo_delete(conn, user_id);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{ss}", "with", how);
    r = h_audit_write(conn, actor, "auth.mfa_disabled", "user", user_id, d, true);
    json_decref(d);
  }
  struct h_push_list alerts = {0};
  if (r == H_OK) {
    r = h_security_alert(conn, user_id, H_SEC_MFA_DISABLED, actor, NULL, &alerts);
  }
  OPENSSL_cleanse(row.secret, sizeof(row.secret));
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, user_id, &alerts, actor->request_id);
  return r;
}

h_result h_mfa_challenge_issue(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                               const char *user_id, json_t **out) {
  char hash[65];
  int ttl = app->cfg->mfa_challenge_ttl_s;
  char *token = h_auth_new_secret("mc_", hash);
  if (token == NULL) {
    return H_ERR_INTERNAL;
  }
  h_result r = h_challenge_repo_insert(conn, user_id, hash, ttl, actor->ip, actor->user_agent);
  if (r == H_OK) {
    r = h_audit_write(conn, actor, "auth.mfa_challenged", "user", user_id, NULL, true);
  }
  if (r == H_OK) {
    *out = json_pack("{sssbsssi}", "object", "mfa_challenge", "mfa_required", 1, "challenge",
                     token, "expires_in", ttl);
  }
  free(token);
  return r;
}

/* The second step once the challenge is locked and live: the factor, then the tokens. */
static h_result complete_login(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                               const struct h_challenge_row *ch, const char *code,
                               const char *recovery_code, json_t **tokens,
                               struct h_push_list *alerts) {
  struct h_totp_row row;
  const char *how = NULL;
  char role[16];
  long epoch = 0;
  h_result r = h_totp_repo_lock(conn, ch->user_id, &row);
  r = r == H_OK && !row.confirmed ? H_ERR_NOT_FOUND : r;
  if (r == H_OK) {
    r = second_factor(conn, ch->user_id, &row, code, recovery_code, &how);
  }
  OPENSSL_cleanse(row.secret, sizeof(row.secret));
  if (r == H_OK) {
    r = h_user_repo_grant_row(conn, ch->user_id, role, &epoch);
  }
  if (r == H_OK) {
    r = h_challenge_repo_use(conn, ch->id);
  }
  if (r == H_OK) {
    const struct h_auth_grant g = {.user_id = ch->user_id, .role = role, .epoch = epoch,
                                   .mfa = true};
    r = h_auth_issue_pair(app, conn, &g, actor, tokens);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{ss}", "mfa", how);
    r = h_audit_write(conn, actor, "auth.login", "user", ch->user_id, d, true);
    json_decref(d);
  }
  return r == H_OK ? h_security_sign_in(conn, ch->user_id, actor, alerts) : r;
}

h_result h_mfa_login(struct h_app *app, const struct h_actor *actor, const char *challenge,
                     const char *code, const char *recovery_code, json_t **tokens) {
  struct h_challenge_row ch;
  PGconn *conn = NULL;
  char hash[65];
  *tokens = NULL;
  h_sha256_hex(challenge, strlen(challenge), hash);
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_challenge_repo_lock(conn, hash, &ch);
    r = r == H_OK && (!ch.live || ch.attempts >= H_MFA_CHALLENGE_ATTEMPTS) ? H_ERR_NOT_FOUND : r;
  }
  if (r == H_ERR_NOT_FOUND) {
    h_db_tx_finish(app->db, conn, r);
    return r;
  }
  struct h_actor self = *actor;
  self.id = ch.user_id;
  struct h_push_list alerts = {0};
  if (r == H_OK) {
    r = complete_login(app, conn, &self, &ch, code, recovery_code, tokens, &alerts);
  }
  if (r == H_ERR_UNAUTHORIZED) {
    /* The wrong code (nothing was written for it) is counted and audited; the challenge
     * survives a few of them. */
    r = h_challenge_repo_failed(conn, ch.id);
    r = r == H_OK ? h_audit_write(conn, &self, "auth.mfa_failed", "user", ch.user_id, NULL, true)
                  : r;
    r = h_db_tx_finish(app->db, conn, r);
    h_push_list_clear(&alerts);
    return r == H_OK ? H_ERR_UNAUTHORIZED : r;
  }
  r = h_db_tx_finish(app->db, conn, r);
  h_security_alert_push(app, r, ch.user_id, &alerts, actor->request_id);
  if (r != H_OK) {
    json_decref(*tokens);
    *tokens = NULL;
  }
  return r;
}

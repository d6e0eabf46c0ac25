/* Integration: access tokens ending at once (token epoch), sessions, two-factor
 * authentication with TOTP, admins required to use it, and password hashes upgraded at
 * sign-in; over real HTTP, asserting on rows too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "harness.h"
#include "users/totp.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

/* A request with an optional bearer token and an optional User-Agent. */
static void call_as(const struct th_server *s, const char *token, const char *agent,
                    const char *method, const char *path, const char *body,
                    struct th_response *r) {
  char ua[256];
  snprintf(ua, sizeof(ua), "User-Agent: %s", agent != NULL ? agent : "");
  th_call(s, token, method, path, body, agent != NULL ? ua : NULL, r);
}

static void call(const char *token, const char *method, const char *path, const char *body,
                 struct th_response *r) {
  call_as(&srv, token, NULL, method, path, body, r);
}

static long status_of(const char *token, const char *method, const char *path,
                      const char *body) {
  struct th_response r;
  call(token, method, path, body, &r);
  long status = r.status;
  th_response_free(&r);
  return status;
}

/* Signs in; returns the response (caller frees). */
static void login_as(const struct th_server *s, const char *email, const char *agent,
                     struct th_response *r) {
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  call_as(s, NULL, agent, "POST", "/api/v1/auth/login", body, r);
  free(body);
}

/* Signs in expecting tokens; returns the access token, *refresh (may be NULL) the
 * refresh token (caller frees both). */
static char *login_tokens(const struct th_server *s, const char *email, const char *agent,
                          char **refresh) {
  struct th_response r;
  login_as(s, email, agent, &r);
  if (r.status != 200) {
    fail_msg("login %s: %ld %s", email, r.status, r.body);
  }
  char *token = h_strdup(th_str(r.json, "access_token"));
  if (refresh != NULL) {
    *refresh = h_strdup(th_str(r.json, "refresh_token"));
  }
  th_response_free(&r);
  return token;
}

/* POST /auth/refresh: the status, and the new access token into *access when 200. */
static long refresh_with(const char *refresh, char **access) {
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", refresh);
  struct th_response r;
  call(NULL, "POST", "/api/v1/auth/refresh", body, &r);
  long status = r.status;
  if (status == 200 && access != NULL) {
    *access = h_strdup(th_str(r.json, "access_token"));
  }
  th_response_free(&r);
  free(body);
  return status;
}

static void assert_token_ended(const char *token) {
  struct th_response r;
  call(token, "GET", "/api/v1/users/me", NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
}

static void test_epoch_role_change(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("epoch-role");
  char *user = th_register(&srv, email, id, NULL);
  assert_int_equal(status_of(user, "GET", "/api/v1/users/me", NULL), 200);
  char *path = h_sprintf("/api/v1/admin/users/%s", id);
  assert_int_equal(status_of(admin, "PATCH", path, "{\"role\":\"admin\"}"), 200);
  assert_token_ended(user); /* the token still says role user: it ends at once */
  char *promoted = login_tokens(&srv, email, NULL, NULL);
  assert_int_equal(status_of(promoted, "GET", "/api/v1/admin/users?limit=1", NULL), 200);
  /* The demotion ends the admin token at once, not at its expiry. */
  assert_int_equal(status_of(admin, "PATCH", path, "{\"role\":\"user\"}"), 200);
  assert_int_equal(status_of(promoted, "GET", "/api/v1/admin/users?limit=1", NULL), 401);
  free(promoted);
  free(path);
  free(user);
  free(email);
}

static void test_epoch_disable(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("epoch-disable");
  char *user = th_register(&srv, email, id, NULL);
  char *path = h_sprintf("/api/v1/admin/users/%s", id);
  assert_int_equal(status_of(admin, "PATCH", path, "{\"disabled\":true}"), 200);
  assert_token_ended(user);
  assert_int_equal(status_of(admin, "PATCH", path, "{\"disabled\":false}"), 200);
  assert_token_ended(user); /* re-enabling does not bring old tokens back */
  char *again = login_tokens(&srv, email, NULL, NULL);
  assert_int_equal(status_of(again, "GET", "/api/v1/users/me", NULL), 200);
  free(again);
  free(path);
  free(user);
  free(email);
}

static void test_epoch_password_change(void **state) {
  (void)state;
  char *email = th_unique_email("epoch-password");
  char *user = th_register(&srv, email, NULL, NULL);
  char *other = login_tokens(&srv, email, "other-device", NULL);
  assert_int_equal(status_of(user, "POST", "/api/v1/users/me/password",
                             "{\"current_password\":\"" TH_PASSWORD "\","
                             "\"new_password\":\"a-brand-new-passphrase-42\"}"),
                   204);
  assert_token_ended(user);
  assert_token_ended(other);
  free(other);
  free(user);
  free(email);
}

/* The session whose user_agent is agent in a GET /sessions answer, or NULL. */
static const json_t *session_with(const json_t *list, const char *agent) {
  const json_t *data = json_object_get(list, "data");
  for (size_t i = 0; i < json_array_size(data); i++) {
    const char *ua = th_str(json_array_get(data, i), "user_agent");
    if (ua != NULL && strcmp(ua, agent) == 0) {
      return json_array_get(data, i);
    }
  }
  return NULL;
}

static void test_sessions(void **state) {
  (void)state;
  char *email = th_unique_email("sessions");
  free(th_register(&srv, email, NULL, NULL));
  char *r1 = NULL, *r2 = NULL;
  char *laptop = login_tokens(&srv, email, "Laptop/1.0", &r1);
  char *phone = login_tokens(&srv, email, "Phone/2.0", &r2);
  struct th_response r;
  call(phone, "GET", "/api/v1/users/me/sessions", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 3); /* + registration */
  const json_t *s1 = session_with(r.json, "Laptop/1.0");
  const json_t *s2 = session_with(r.json, "Phone/2.0");
  assert_non_null(s1);
  assert_non_null(s2);
  th_assert_json_subset("{\"object\":\"session\",\"ip\":\"127.0.0.1\",\"current\":false}", s1);
  th_assert_json_subset("{\"current\":true}", s2);
  assert_non_null(th_str(s1, "created_at"));
  assert_non_null(th_str(s1, "last_used_at"));
  char *laptop_id = h_strdup(th_str(s1, "id"));
  th_response_free(&r);

  /* Ending the laptop's session: its refresh token and access token stop now. */
  char *path = h_sprintf("/api/v1/users/me/sessions/%s", laptop_id);
  assert_int_equal(status_of(phone, "DELETE", path, NULL), 204);
  assert_int_equal(refresh_with(r1, NULL), 401);
  assert_token_ended(laptop);
  /* The phone's client refreshes and goes on. */
  char *phone2 = NULL;
  assert_int_equal(refresh_with(r2, &phone2), 200);
  call(phone2, "GET", "/api/v1/users/me/sessions", NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
  assert_null(session_with(r.json, "Laptop/1.0"));
  th_response_free(&r);
  call(phone2, "DELETE", path, NULL, &r); /* already ended */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  call(phone2, "DELETE", "/api/v1/users/me/sessions/not-a-uuid", NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  /* Another user's session is not found either. */
  call(admin, "DELETE", path, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);

  /* Signing out everywhere. */
  assert_int_equal(status_of(phone2, "DELETE", "/api/v1/users/me/sessions", NULL), 204);
  assert_token_ended(phone2);
  assert_int_equal(refresh_with(r2, NULL), 401);
  char *fresh = login_tokens(&srv, email, "Tablet/3.0", NULL);
  call(fresh, "GET", "/api/v1/users/me/sessions", NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_response_free(&r);
  assert_int_equal(status_of(NULL, "GET", "/api/v1/users/me/sessions", NULL), 401);
  free(fresh);
  free(phone2);
  free(path);
  free(laptop_id);
  free(laptop);
  free(phone);
  free(r1);
  free(r2);
  free(email);
}

/* The 6-digit code of base32 secret at now + delta steps. */
static void code_of(const char *secret, int delta, char out[8]) {
  unsigned char key[64];
  int n = h_base32_decode(secret, key, sizeof(key));
  assert_true(n > 0);
  uint64_t step = h_totp_step((long long)time(NULL)) + (uint64_t)(long long)delta;
  snprintf(out, 8, "%06ld", h_totp_code(H_TOTP_SHA1, key, (size_t)n, step, 6));
}

/* Waits, when the current 30-second step is nearly over, for the next one, so that a
 * test's codes stay in one step. */
static void fresh_step(void) {
  long s = (long)(time(NULL) % H_TOTP_PERIOD_S);
  if (s > 18) {
    sleep((unsigned)(H_TOTP_PERIOD_S - s));
  }
}

/* Enrols and confirms TOTP for token with the code of step now-1; returns the secret and
 * fills codes (new reference) with the recovery codes. */
static char *enable_totp(const struct th_server *s, const char *token, json_t **codes) {
  struct th_response r;
  call_as(s, token, NULL, "POST", "/api/v1/users/me/mfa/totp", NULL, &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"totp_enrollment\",\"digits\":6,\"period\":30}", r.json);
  char *secret = h_strdup(th_str(r.json, "secret"));
  assert_int_equal(strlen(secret), 32);
  assert_non_null(strstr(th_str(r.json, "otpauth_uri"), "otpauth://totp/Herald:"));
  assert_non_null(strstr(th_str(r.json, "otpauth_uri"), secret));
  th_response_free(&r);
  char code[8];
  code_of(secret, -1, code);
  char *body = h_sprintf("{\"code\":\"%s\"}", code);
  call_as(s, token, NULL, "POST", "/api/v1/users/me/mfa/totp/confirm", body, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "codes")), 10);
  *codes = json_incref(json_object_get(r.json, "codes"));
  th_response_free(&r);
  free(body);
  return secret;
}

/* Signs in to an account with TOTP: returns the challenge (caller frees). */
static char *challenge_of(const struct th_server *s, const char *email) {
  struct th_response r;
  login_as(s, email, "Authenticator-test", &r);
  assert_int_equal(r.status, 202);
  th_assert_json_subset("{\"object\":\"mfa_challenge\",\"mfa_required\":true,"
                        "\"expires_in\":300}", r.json);
  assert_null(json_object_get(r.json, "access_token"));
  char *challenge = h_strdup(th_str(r.json, "challenge"));
  th_response_free(&r);
  return challenge;
}

/* POST /auth/mfa/verify with body (a format taking the challenge, then the factor). */
static void verify(const struct th_server *s, const char *challenge, const char *field,
                   const char *value, struct th_response *r) {
  char *body = h_sprintf("{\"challenge\":\"%s\",\"%s\":\"%s\"}", challenge, field, value);
  call_as(s, NULL, NULL, "POST", "/api/v1/auth/mfa/verify", body, r);
  free(body);
}

static void test_totp_flow(void **state) {
  (void)state;
  fresh_step();
  char id[37];
  char *email = th_unique_email("totp");
  char *token = th_register(&srv, email, id, NULL);
  json_t *codes = NULL;
  char *secret = enable_totp(&srv, token, &codes);
  struct th_response r;
  call(token, "POST", "/api/v1/users/me/mfa/totp", NULL, &r); /* already on */
  th_assert_error(&r, 409, "mfa_already_enabled");
  th_response_free(&r);

  /* Sign-in: a challenge, a wrong code, then the current code. */
  char *challenge = challenge_of(&srv, email);
  verify(&srv, challenge, "code", "000000", &r);
  th_assert_error(&r, 401, "invalid_code");
  th_response_free(&r);
  char code[8];
  code_of(secret, 0, code);
  verify(&srv, challenge, "code", code, &r);
  assert_int_equal(r.status, 200);
  char *access = h_strdup(th_str(r.json, "access_token"));
  assert_non_null(th_str(r.json, "refresh_token"));
  th_response_free(&r);
  assert_int_equal(status_of(access, "GET", "/api/v1/users/me", NULL), 200);
  /* The challenge is used up, and the code cannot be used again in its step. */
  verify(&srv, challenge, "code", code, &r);
  th_assert_error(&r, 401, "invalid_challenge");
  th_response_free(&r);
  char *again = challenge_of(&srv, email);
  verify(&srv, again, "code", code, &r);
  th_assert_error(&r, 401, "invalid_code");
  th_response_free(&r);

  /* A recovery code works once. */
  const char *recovery = json_string_value(json_array_get(codes, 0));
  verify(&srv, again, "recovery_code", recovery, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  char *third = challenge_of(&srv, email);
  verify(&srv, third, "recovery_code", recovery, &r);
  th_assert_error(&r, 401, "invalid_code");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1"
                               " AND used_at IS NULL", id), 9);

  /* Disabling needs a fresh code (the current one is used). */
  char *body = h_sprintf("{\"code\":\"%s\"}", code);
  call(access, "POST", "/api/v1/users/me/mfa/totp/disable", body, &r);
  th_assert_error(&r, 422, "invalid_code");
  th_response_free(&r);
  free(body);
  code_of(secret, 1, code);
  body = h_sprintf("{\"code\":\"%s\"}", code);
  assert_int_equal(status_of(access, "POST", "/api/v1/users/me/mfa/totp/disable", body), 204);
  call(access, "POST", "/api/v1/users/me/mfa/totp/disable", body, &r);
  th_assert_error(&r, 409, "mfa_not_enabled");
  th_response_free(&r);
  free(login_tokens(&srv, email, NULL, NULL)); /* no second step any more */
  char *audit = th_sql_text("SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_log"
                           " WHERE target_id = $1 AND action LIKE 'auth.mfa%'", id);
  assert_non_null(strstr(audit, "auth.mfa_enabled"));
  assert_non_null(strstr(audit, "auth.mfa_failed"));
  assert_non_null(strstr(audit, "auth.mfa_disabled"));
  free(audit);
  /* each change told the user (alerts/security_alert.c), never with a code in it */
  char *alerts = th_sql_text("SELECT string_agg(data->>'event', ',' ORDER BY created_at)"
                             " FROM notifications WHERE user_id = $1 AND category = 'security'",
                             id);
  assert_non_null(strstr(alerts, "mfa_enabled"));
  assert_non_null(strstr(alerts, "mfa_disabled"));
  free(alerts);
  char *leak = h_sprintf("SELECT count(*) FROM notifications WHERE user_id = $1 AND"
                         " (body LIKE '%%%s%%' OR body LIKE '%%%s%%')", code, secret);
  assert_int_equal(th_sql_long(leak, id), 0);
  free(leak);
  free(body);
  free(third);
  free(again);
  free(access);
  free(challenge);
  free(secret);
  json_decref(codes);
  free(token);
  free(email);
}

static void test_totp_bad_input(void **state) {
  (void)state;
  fresh_step();
  char id[37];
  char *email = th_unique_email("totp-bad");
  char *token = th_register(&srv, email, id, NULL);
  struct th_response r;
  call(token, "POST", "/api/v1/users/me/mfa/totp/confirm", "{\"code\":\"123456\"}", &r);
  th_assert_error(&r, 409, "mfa_not_pending");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/mfa/totp/disable", "{\"code\":\"123456\"}", &r);
  th_assert_error(&r, 409, "mfa_not_enabled");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/mfa/totp", "{\"x\":1}", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  assert_int_equal(status_of(token, "POST", "/api/v1/users/me/mfa/totp", NULL), 201);
  call(token, "POST", "/api/v1/users/me/mfa/totp/confirm", "{\"code\":\"12ab56\"}", &r);
  th_assert_error(&r, 422, "invalid_code");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/mfa/totp/confirm", "{}", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/mfa/totp/confirm", "{\"code\":123456}", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  assert_int_equal(status_of(NULL, "POST", "/api/v1/users/me/mfa/totp", NULL), 401);
  /* A new enrolment replaces a pending one. */
  json_t *codes = NULL;
  char *secret = enable_totp(&srv, token, &codes);

  char *challenge = challenge_of(&srv, email);
  call(NULL, "POST", "/api/v1/auth/mfa/verify", "{\"code\":\"123456\"}", &r);
  assert_int_equal(r.status, 400); /* no challenge */
  th_response_free(&r);
  char *both = h_sprintf("{\"challenge\":\"%s\",\"code\":\"123456\",\"recovery_code\":\"x\"}",
                         challenge);
  call(NULL, "POST", "/api/v1/auth/mfa/verify", both, &r);
  th_assert_error(&r, 400, "code_or_recovery_code");
  th_response_free(&r);
  call(NULL, "POST", "/api/v1/auth/mfa/verify", "[1]", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  verify(&srv, "mc_not-a-challenge", "code", "123456", &r);
  th_assert_error(&r, 401, "invalid_challenge");
  th_response_free(&r);
  /* Too many wrong codes end the challenge; so does its expiry. */
  for (int i = 0; i < 5; i++) {
    verify(&srv, challenge, "code", "000000", &r);
    th_assert_error(&r, 401, "invalid_code");
    th_response_free(&r);
  }
  char code[8];
  code_of(secret, 0, code);
  verify(&srv, challenge, "code", code, &r);
  th_assert_error(&r, 401, "invalid_challenge");
  th_response_free(&r);
  char *late = challenge_of(&srv, email);
  free(th_sql_text("UPDATE mfa_challenges SET expires_at = now() - interval '1 second'"
                   " WHERE user_id = $1::uuid AND used_at IS NULL RETURNING id", id));
  verify(&srv, late, "code", code, &r);
  th_assert_error(&r, 401, "invalid_challenge");
  th_response_free(&r);
  free(late);
  free(both);
  free(challenge);
  free(secret);
  json_decref(codes);
  free(token);
  free(email);
}

/* With HERALD_MFA_REQUIRED_FOR_ADMINS, admin endpoints want a sign-in with TOTP. */
static void test_admins_need_mfa(void **state) {
  (void)state;
  fresh_step();
  setenv("HERALD_MFA_REQUIRED_FOR_ADMINS", "true", 1);
  struct th_server strict;
  th_start(&strict);
  unsetenv("HERALD_MFA_REQUIRED_FOR_ADMINS");
  char id[37];
  char *email = th_unique_email("admin-mfa");
  free(th_register(&strict, email, id, NULL));
  free(th_sql_text("UPDATE users SET role = 'admin' WHERE id = $1::uuid RETURNING id", id));
  char *token = login_tokens(&strict, email, NULL, NULL);
  struct th_response r;
  call_as(&strict, token, NULL, "GET", "/api/v1/admin/users?limit=1", NULL, &r);
  th_assert_error(&r, 403, "mfa_required");
  th_response_free(&r);
  call_as(&strict, token, NULL, "GET", "/api/v1/users/me", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  json_t *codes = NULL;
  char *secret = enable_totp(&strict, token, &codes);
  char *challenge = challenge_of(&strict, email);
  char code[8];
  code_of(secret, 0, code);
  verify(&strict, challenge, "code", code, &r);
  assert_int_equal(r.status, 200);
  char *strong = h_strdup(th_str(r.json, "access_token"));
  char *refresh = h_strdup(th_str(r.json, "refresh_token"));
  th_response_free(&r);
  call_as(&strict, strong, NULL, "GET", "/api/v1/admin/users?limit=1", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  /* A refreshed token of that session keeps the second factor. */
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", refresh);
  call_as(&strict, NULL, NULL, "POST", "/api/v1/auth/refresh", body, &r);
  assert_int_equal(r.status, 200);
  char *refreshed = h_strdup(th_str(r.json, "access_token"));
  th_response_free(&r);
  call_as(&strict, refreshed, NULL, "GET", "/api/v1/admin/users?limit=1", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_stop(&strict);
  free(refreshed);
  free(body);
  free(refresh);
  free(strong);
  free(challenge);
  free(secret);
  json_decref(codes);
  free(token);
  free(email);
}

/* A hash made with the old scrypt parameters still signs in and is replaced. */
static void test_rehash_on_login(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("rehash");
  free(th_register(&srv, email, id, NULL));
  char *old = NULL;
  assert_int_equal(h_password_hash_params(TH_PASSWORD, 16384, 8, 1, &old), H_OK);
  PGconn *c = th_db_connect();
  const char *params[] = {id, old};
  PGresult *res = PQexecParams(c, "UPDATE users SET password_hash = $2 WHERE id = $1::uuid", 2,
                               NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(c);
  free(login_tokens(&srv, email, NULL, NULL));
  char *now = th_sql_text("SELECT password_hash FROM users WHERE id = $1::uuid", id);
  assert_true(strncmp(now, "scrypt$32768$8$3$", 17) == 0);
  assert_true(h_password_verify(TH_PASSWORD, now));
  free(login_tokens(&srv, email, NULL, NULL));
  free(now);
  free(old);
  free(email);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_epoch_role_change),
    cmocka_unit_test(test_epoch_disable),
    cmocka_unit_test(test_epoch_password_change),
    cmocka_unit_test(test_sessions),
    cmocka_unit_test(test_totp_flow),
    cmocka_unit_test(test_totp_bad_input),
    cmocka_unit_test(test_admins_need_mfa),
    cmocka_unit_test(test_rehash_on_login),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: registration, sign-in, tokens, lockout and the password and
 * e-mail flows, over real HTTP, asserting on rows and queue ids too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "notifications/outbox.h"
#include "crypto/jwt_tokens.h"

static struct th_server srv;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_LOCKOUT_THRESHOLD", "3", 1);
  setenv("HERALD_LOCKOUT_DURATION_S", "2", 1);
  th_start(&srv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

static void post(const char *path, const char *body, struct th_response *r) {
  th_request(&srv, "POST", path, NULL, body, r);
}

static long count_rows(const char *sql, const char *param) {
  PGconn *c = th_db_connect();
  const char *params[] = {param};
  PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  long n = atol(PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(c);
  return n;
}

static void login_status(const char *email, const char *password, long want, const char *code) {
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
  struct th_response r;
  post("/api/v1/auth/login", body, &r);
  if (code != NULL) {
    th_assert_error(&r, want, code);
  } else if (r.status != want) {
    fail_msg("login %s: want %ld got %ld %s", email, want, r.status, r.body);
  }
  th_response_free(&r);
  free(body);
}

/* The notifications of user_id with template_key (count). */
static long outbox_count(const char *user_id, const char *template_key) {
  PGconn *c = th_db_connect();
  const char *params[] = {user_id, template_key};
  PGresult *res = PQexecParams(c,
                               "SELECT count(*) FROM notifications n JOIN deliveries d"
                               " ON d.notification_id = n.id AND d.channel = 'email'"
                               " WHERE n.user_id = $1::uuid AND n.template_key = $2",
                               2, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("outbox: %s", PQerrorMessage(c));
  }
  long n = atol(PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(c);
  return n;
}

static void test_register_and_me(void **state) {
  (void)state;
  char *email = th_unique_email("Reg");
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\",\"name\":\"Ana\","
                         "\"phone\":\"+14155550123\",\"timezone\":\"America/Sao_Paulo\","
                         "\"locale\":\"pt-BR\"}", email);
  struct th_response r;
  post("/api/v1/auth/register", body, &r);
  assert_int_equal(r.status, 202);
  th_assert_json_subset("{\"status\":\"accepted\"}", r.json);
  assert_null(json_object_get(r.json, "access_token"));
  assert_non_null(strstr(r.headers, "Cache-Control: no-store"));
  char *first = h_strdup(r.body);
  th_response_free(&r);

  char *login = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  post("/api/v1/auth/login", login, &r);
  assert_int_equal(r.status, 200);
  char *token = h_strdup(th_str(r.json, "access_token"));
  assert_true(strncmp(th_str(r.json, "refresh_token"), "rt_", 3) == 0);
  th_response_free(&r);
  const char *h[] = {th_bearer(token), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", h, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"user\",\"name\":\"Ana\",\"role\":\"user\","
                        "\"status\":\"active\",\"timezone\":\"America/Sao_Paulo\","
                        "\"locale\":\"pt-BR\",\"email_verified\":false}", r.json);
  assert_string_equal(th_str(r.json, "email"), email);
  char *id = h_strdup(th_str(r.json, "id"));
  th_response_free(&r);
  assert_int_equal(outbox_count(id, "email_verification"), 1);
  assert_int_equal(outbox_count(id, "registration_attempt"), 0);

  /* The same address in another case: the very same answer (no account enumeration), the
   * account unchanged, and its owner told by e-mail. */
  for (char *p = email; *p; p++) {
    *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
  }
  free(body);
  body = h_sprintf("{\"email\":\"%s\",\"password\":\"another-passphrase-99\"}", email);
  post("/api/v1/auth/register", body, &r);
  assert_int_equal(r.status, 202);
  assert_string_equal(r.body, first);
  th_response_free(&r);
  assert_int_equal(count_rows("SELECT count(*) FROM users WHERE lower(email) = lower($1)", email),
                   1);
  assert_int_equal(outbox_count(id, "registration_attempt"), 1);
  assert_int_equal(outbox_count(id, "email_verification"), 1);
  assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'user.registration_attempted'", id), 1);
  post("/api/v1/auth/login", login, &r); /* the owner's password still works */
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  free(id);
  free(login);
  free(first);
  free(body);
  free(token);
  free(email);
}

static void expect_field_error(const char *body, const char *param, const char *code) {
  struct th_response r;
  post("/api/v1/auth/register", body, &r);
  th_assert_field_error(&r, param, code);
  th_response_free(&r);
}

static void test_register_bad_input(void **state) {
  (void)state;
  expect_field_error("{\"password\":\"" TH_PASSWORD "\"}", "email", "missing_field");
  expect_field_error("{\"email\":42,\"password\":\"" TH_PASSWORD "\"}", "email", "invalid_type");
  expect_field_error("{\"email\":\"nope\",\"password\":\"" TH_PASSWORD "\"}", "email",
                     "invalid_email");
  expect_field_error("{\"email\":\"a@b.co\"}", "password", "missing_field");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"short\"}", "password",
                     "password_too_short");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"qwertyuiop\"}", "password",
                     "password_too_common");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"aaaaaaaaaaaa\"}", "password",
                     "password_too_common");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"phone\":\"555\"}",
                     "phone", "invalid_phone");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"timezone\":"
                     "\"Mars/Olympus\"}", "timezone", "invalid_timezone");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"timezone\":"
                     "\"../../etc/passwd\"}", "timezone", "invalid_timezone");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"locale\":\"EN\"}",
                     "locale", "invalid_locale");
  expect_field_error("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"admin\":true}",
                     "admin", "unknown_field");
  char *longname = h_malloc(300);
  memset(longname, 'x', 299);
  longname[299] = '\0';
  char *body = h_sprintf("{\"email\":\"a@b.co\",\"password\":\"" TH_PASSWORD "\",\"name\":\"%s\"}",
                         longname);
  expect_field_error(body, "name", "too_long");
  free(body);
  free(longname);
  struct th_response r;
  post("/api/v1/auth/register", "[1,2]", &r);
  th_assert_error(&r, 400, "invalid_body");
  th_response_free(&r);
  th_request(&srv, "POST", "/api/v1/auth/register", NULL, NULL, &r);
  th_assert_error(&r, 400, "missing_body");
  th_response_free(&r);
}

static void test_login_no_enumeration(void **state) {
  (void)state;
  char *email = th_unique_email("login");
  char id[37];
  free(th_register(&srv, email, id, NULL));
  login_status(email, TH_PASSWORD, 200, NULL);
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"wrong-password-123\"}", email);
  struct th_response wrong, unknown;
  post("/api/v1/auth/login", body, &wrong);
  post("/api/v1/auth/login", "{\"email\":\"nobody-here@example.com\",\"password\":\"x\"}", &unknown);
  th_assert_error(&wrong, 401, "invalid_credentials");
  th_assert_error(&unknown, 401, "invalid_credentials");
  assert_string_equal(wrong.body, unknown.body);
  th_response_free(&wrong);
  th_response_free(&unknown);
  assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'auth.login_failed'", id), 1);
  assert_true(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                         " AND action = 'auth.login'", id) >= 1);
  login_status(email, TH_PASSWORD, 200, NULL); /* success resets the failure count */
  free(body);
  free(email);
}

static void test_lockout_and_expiry(void **state) {
  (void)state;
  char *email = th_unique_email("lock");
  char id[37];
  free(th_register(&srv, email, id, NULL));
  for (int i = 0; i < 3; i++) {
    login_status(email, "wrong-password-123", 401, "invalid_credentials");
  }
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  struct th_response r;
  post("/api/v1/auth/login", body, &r);
  th_assert_error(&r, 429, "account_locked");
  long retry = atol(th_header(&r, "Retry-After"));
  assert_true(retry >= 1 && retry <= 2);
  th_response_free(&r);
  assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'auth.account_locked'", id), 1);
  sleep(3);
  login_status(email, TH_PASSWORD, 200, NULL);
  free(body);
  free(email);
}

/* One wrong sign-in per thread, all at once; counts the answers. */
struct wrong_login {
  const struct th_server *server;
  const char *email;
  long status;
};

static void *wrong_login_thread(void *arg) {
  struct wrong_login *w = arg;
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"wrong-password-123\"}", w->email);
  struct th_response r;
  th_request(w->server, "POST", "/api/v1/auth/login", NULL, body, &r);
  w->status = r.status;
  th_response_free(&r);
  free(body);
  return NULL;
}

/* 40 wrong passwords at once with the threshold at 3: at most 3 plain "invalid
 * credentials" answers, every other one says the account is locked. (A server of its own
 * whose lock outlasts the 40 password checks.) */
static void test_lockout_concurrent(void **state) {
  (void)state;
  enum { N = 40 };
  setenv("HERALD_LOCKOUT_DURATION_S", "600", 1);
  struct th_server locking;
  th_start(&locking);
  setenv("HERALD_LOCKOUT_DURATION_S", "2", 1);
  char *email = th_unique_email("lockrace");
  char id[37];
  free(th_register(&locking, email, id, NULL));
  pthread_t threads[N];
  struct wrong_login w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (struct wrong_login){.server = &locking, .email = email};
    assert_int_equal(pthread_create(&threads[i], NULL, wrong_login_thread, &w[i]), 0);
  }
  int unauthorized = 0, locked = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(threads[i], NULL);
    unauthorized += w[i].status == 401;
    locked += w[i].status == 429;
  }
  if (unauthorized > 3 || unauthorized + locked != N) {
    fail_msg("%d answers 401 and %d answers 429 of %d", unauthorized, locked, N);
  }
  assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'auth.account_locked'", id), 1);
  th_stop(&locking);
  free(email);
}

static void test_bad_tokens(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "GET", "/api/v1/users/me", NULL, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  assert_non_null(th_header(&r, "WWW-Authenticate"));
  th_response_free(&r);
  const char *basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
  th_request(&srv, "GET", "/api/v1/users/me", basic, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);

  char id[37];
  char *email = th_unique_email("tok");
  char *token = th_register(&srv, email, id, NULL);
  char *tampered = h_strdup(token);
  char *dot = strchr(tampered, '.');
  dot[5] = dot[5] == 'a' ? 'b' : 'a';
  const char *h[] = {th_bearer(tampered), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", h, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);

  /* Expired: signed with the server's own key, an hour in the past. */
  char *expired = NULL;
  assert_int_equal(h_jwt_issue(&srv.app.jwt, id, "user", 900, (long)time(NULL) - 3600, &expired),
                   H_OK);
  const char *he[] = {th_bearer(expired), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", he, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);

  /* alg none with the same claims. */
  const char *none[] = {"Authorization: Bearer eyJhbGciOiJub25lIn0."
                        "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.", NULL};
  th_request(&srv, "GET", "/api/v1/admin/users", none, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);

  /* A user token on an admin route. */
  const char *hu[] = {th_bearer(token), NULL};
  th_request(&srv, "GET", "/api/v1/admin/users", hu, NULL, &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  free(expired);
  free(tampered);
  free(token);
  free(email);
}

static json_t *refresh(const char *rt, long want) {
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", rt);
  struct th_response r;
  post("/api/v1/auth/refresh", body, &r);
  free(body);
  if (r.status != want) {
    fail_msg("refresh: want %ld got %ld %s", want, r.status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

static void test_refresh_rotation_and_reuse(void **state) {
  (void)state;
  char *rt1 = NULL, id[37];
  char *email = th_unique_email("rot");
  free(th_register(&srv, email, id, &rt1));
  json_t *pair2 = refresh(rt1, 200);
  const char *rt2 = th_str(pair2, "refresh_token");
  assert_string_not_equal(rt1, rt2);
  json_t *pair3 = refresh(rt2, 200);
  /* rt1 was rotated: presenting it again revokes the whole family, rt3 included. */
  json_decref(refresh(rt1, 401));
  json_decref(refresh(th_str(pair3, "refresh_token"), 401));
  assert_int_equal(count_rows("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'auth.refresh_token_reused'", id), 1);
  assert_int_equal(count_rows("SELECT count(*) FROM refresh_tokens WHERE user_id = $1::uuid"
                              " AND revoked_at IS NULL", id), 0);
  json_decref(refresh("rt_does-not-exist", 401));
  struct th_response r;
  post("/api/v1/auth/refresh", "{\"refresh_token\":5}", &r);
  th_assert_error(&r, 400, "invalid_type");
  th_response_free(&r);
  json_decref(pair2);
  json_decref(pair3);
  free(rt1);
  free(email);
}

static void test_logout(void **state) {
  (void)state;
  char *rt = NULL;
  char *email = th_unique_email("out");
  free(th_register(&srv, email, NULL, &rt));
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", rt);
  struct th_response r;
  post("/api/v1/auth/logout", body, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  json_decref(refresh(rt, 401));
  post("/api/v1/auth/logout", body, &r); /* again: still 204 */
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  post("/api/v1/auth/logout", "{}", &r);
  th_assert_error(&r, 400, "missing_field");
  th_response_free(&r);
  free(body);
  free(rt);
  free(email);
}

/* The raw token of the newest e-mail of kind sent to user id (caller frees). */
/* The raw token of the newest e-mail of kind to id, read from the link in its body as the
 * recipient would (it is stored nowhere else); NULL once the content is cleared. */
static char *mailed_token(const char *id, const char *kind) {
  char *sql = h_sprintf("SELECT substring(body from 'token=([A-Za-z0-9_-]+)') FROM notifications"
                        " WHERE user_id = $1::uuid"
                        " AND template_key = '%s' ORDER BY created_at DESC LIMIT 1", kind);
  char *t = th_sql_text(sql, id);
  free(sql);
  return t;
}

/* One-time links live only in the e-mail being sent: the notification is sensitive (reads
 * never show it), keeps no token in its data, a newer link ends the older ones, and the
 * content is cleared once the e-mail is sent or the link expires. */
static void test_reset_links_are_secret(void **state) {
  (void)state;
  char id[37], admin_id[37];
  char *admin = th_admin_token(&srv, admin_id);
  char *email = th_unique_email("secret");
  free(th_register(&srv, email, id, NULL));
  char *body = h_sprintf("{\"email\":\"%s\"}", email);
  struct th_response r;
  post("/api/v1/auth/password-reset", body, &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
  char *first = mailed_token(id, "password_reset");
  assert_non_null(first);
  post("/api/v1/auth/password-reset", body, &r);
  th_response_free(&r);
  char *second = mailed_token(id, "password_reset");
  assert_non_null(second);
  assert_string_not_equal(first, second);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND template_key = 'password_reset' AND sensitive"
                               " AND NOT data ? 'token'", id), 2);
  /* an admin reading the notification sees no link */
  char *nid = th_sql_text("SELECT id FROM notifications WHERE user_id = $1::uuid"
                          " AND template_key = 'password_reset' ORDER BY created_at DESC LIMIT 1",
                          id);
  char *path = h_sprintf("/api/v1/notifications/%s", nid);
  th_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"sensitive\":true,\"body\":null,\"action_url\":null,\"data\":{}}",
                        r.json);
  assert_null(strstr(r.body, second));
  th_response_free(&r);
  /* the newer link ended the older one */
  char *old = h_sprintf("{\"token\":\"%s\",\"new_password\":\"a-brand-new-secret\"}", first);
  post("/api/v1/auth/password-reset/confirm", old, &r);
  th_assert_error(&r, 400, "invalid_token");
  th_response_free(&r);
  /* sent: its content goes */
  PGconn *c = th_db_connect();
  const char *p[] = {nid};
  PGresult *res = PQexecParams(c, "UPDATE deliveries SET status = 'sent', sent_at = now()"
                                  " WHERE notification_id = $1::uuid", 1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE id = $1::uuid"
                               " AND body IS NULL AND action_url IS NULL AND data = '{}'", nid), 1);
  /* expired, never sent: the sweeper's pass clears it */
  const char *u[] = {id};
  res = PQexecParams(c, "UPDATE notifications SET created_at = now() - interval '2 days'"
                        " WHERE user_id = $1::uuid AND template_key = 'password_reset'",
                     1, NULL, u, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  long cleared = 0;
  assert_int_equal(h_outbox_clear_expired(c, 3600, &cleared), H_OK);
  assert_true(cleared >= 1);
  assert_null(mailed_token(id, "password_reset"));
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND template_key = 'password_reset' AND body IS NOT NULL", id), 0);
  PQfinish(c);
  free(old);
  free(path);
  free(nid);
  free(first);
  free(second);
  free(body);
  free(email);
  free(admin);
}

static void test_password_reset(void **state) {
  (void)state;
  char *rt = NULL, id[37];
  char *email = th_unique_email("reset");
  char *access = th_register(&srv, email, id, &rt);
  char *body = h_sprintf("{\"email\":\"%s\"}", email);
  struct th_response known, unknown;
  post("/api/v1/auth/password-reset", body, &known);
  post("/api/v1/auth/password-reset", "{\"email\":\"ghost@example.com\"}", &unknown);
  assert_int_equal(known.status, 202);
  assert_int_equal(unknown.status, 202);
  assert_string_equal(known.body, unknown.body);
  th_response_free(&known);
  th_response_free(&unknown);
  char *delivery = th_sql_text("SELECT d.id FROM deliveries d JOIN notifications n"
                              " ON n.id = d.notification_id WHERE n.user_id = $1::uuid"
                              " AND n.template_key = 'password_reset' AND d.status = 'queued'",
                              id);
  assert_non_null(delivery);
  assert_true(th_list_has("herald:q:{email}", delivery));
  char *token = mailed_token(id, "password_reset");
  assert_non_null(token);

  char *weak = h_sprintf("{\"token\":\"%s\",\"new_password\":\"123\"}", token);
  struct th_response r;
  post("/api/v1/auth/password-reset/confirm", weak, &r);
  th_assert_error(&r, 400, "password_too_short");
  th_response_free(&r);
  char *good = h_sprintf("{\"token\":\"%s\",\"new_password\":\"a-brand-new-secret\"}", token);
  post("/api/v1/auth/password-reset/confirm", good, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  json_decref(refresh(rt, 401)); /* sessions revoked */
  const char *h[] = {th_bearer(access), NULL}; /* and access tokens end at once */
  th_request(&srv, "GET", "/api/v1/users/me", h, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  login_status(email, TH_PASSWORD, 401, "invalid_credentials");
  login_status(email, "a-brand-new-secret", 200, NULL);
  post("/api/v1/auth/password-reset/confirm", good, &r); /* single use */
  th_assert_error(&r, 400, "invalid_token");
  th_response_free(&r);
  post("/api/v1/auth/password-reset", "{\"email\":\"not-an-email\"}", &r);
  th_assert_error(&r, 400, "invalid_email");
  th_response_free(&r);
  free(weak);
  free(good);
  free(token);
  free(delivery);
  free(body);
  free(rt);
  free(access);
  free(email);
}

static void test_verify_email(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("verify");
  char *access = th_register(&srv, email, id, NULL);
  char *token = mailed_token(id, "email_verification");
  assert_non_null(token);
  char *body = h_sprintf("{\"token\":\"%s\"}", token);
  struct th_response r;
  post("/api/v1/auth/verify-email", "{\"token\":\"nonsense\"}", &r);
  th_assert_error(&r, 400, "invalid_token");
  th_response_free(&r);
  post("/api/v1/auth/verify-email", body, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  const char *h[] = {th_bearer(access), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", h, NULL, &r);
  th_assert_json_subset("{\"email_verified\":true}", r.json);
  th_response_free(&r);
  free(body);
  free(token);
  free(access);
  free(email);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_register_and_me),
    cmocka_unit_test(test_register_bad_input),
    cmocka_unit_test(test_login_no_enumeration),
    cmocka_unit_test(test_lockout_and_expiry),
    cmocka_unit_test(test_lockout_concurrent),
    cmocka_unit_test(test_bad_tokens),
    cmocka_unit_test(test_refresh_rotation_and_reuse),
    cmocka_unit_test(test_logout),
    cmocka_unit_test(test_password_reset),
    cmocka_unit_test(test_reset_links_are_secret),
    cmocka_unit_test(test_verify_email),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

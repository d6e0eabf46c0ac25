/* Integration: limits per route group, per IP and per user, answered 429 with Retry-After and
 * RateLimit-*; POST /users/me/password is limited per user; without Redis the in-process
 * limiter keeps counting (no failing open); leases of counts never admit more than a limit
 * across two API processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"

static struct th_server srv;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "3", 1);
  setenv("HERALD_AUTH_RATE_WINDOW_S", "30", 1);
  setenv("HERALD_REDIS_TIMEOUT_MS", "300", 1);
  setenv("HERALD_RATE_LIMIT_PASSWORD", "2", 1);
  setenv("HERALD_RATE_LIMIT_READ_USER", "4", 1);
  setenv("HERALD_RATE_LIMIT_READ_IP", "8", 1);
  setenv("HERALD_RATE_LIMIT_WRITE_IP", "5", 1);
  setenv("HERALD_RATE_WINDOW_S", "30", 1);
  th_start(&srv);
  th_redis_del_keys("herald:rl:*");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_redis_del_keys("herald:rl:*");
  th_stop(&srv);
  return 0;
}

static long login(const char *body, struct th_response *r) {
  th_request(&srv, "POST", "/api/v1/auth/login", NULL, body, r);
  return r->status;
}

/* Asserts the 429 shape with its headers (limit, remaining 0, reset == Retry-After). */
static void assert_limited(const struct th_response *r, const char *limit) {
  th_assert_error(r, 429, "rate_limited");
  long retry = atol(th_header(r, "Retry-After"));
  assert_true(retry >= 1 && retry <= 30);
  assert_int_equal(atol(th_header(r, "RateLimit-Reset")), retry);
  assert_string_equal(th_header(r, "RateLimit-Limit"), limit);
  assert_string_equal(th_header(r, "RateLimit-Remaining"), "0");
}

static void test_limit_then_429(void **state) {
  (void)state;
  struct th_response r;
  const char *body = "{\"email\":\"limited@example.com\",\"password\":\"whatever-123\"}";
  for (int i = 0; i < 3; i++) {
    assert_int_equal(login(body, &r), 401);
    th_response_free(&r);
  }
  login(body, &r);
  assert_limited(&r, "3");
  assert_string_equal(th_str(json_object_get(r.json, "error"), "type"), "rate_limit_error");
  th_response_free(&r);
  /* The counter lives in Redis with the window as its TTL (never a key without one). */
  redisContext *c = redisConnect("127.0.0.1", atoi(getenv("HERALD_REDIS_PORT")));
  redisReply *ttl = redisCommand(c, "TTL herald:rl:auth:login:ip:127.0.0.1");
  assert_true(ttl != NULL && ttl->type == REDIS_REPLY_INTEGER && ttl->integer >= 1 &&
              ttl->integer <= 30);
  freeReplyObject(ttl);
  redisFree(c);
  /* Other buckets are counted separately. */
  th_request(&srv, "POST", "/api/v1/auth/password-reset", NULL,
             "{\"email\":\"limited@example.com\"}", &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
}

/* A new user's access token; the sign-up's counter is cleared so the auth limit stays free. */
static char *new_user(const char *prefix) {
  char *email = th_unique_email(prefix);
  th_redis_del_keys("herald:rl:*");
  char *token = th_register(&srv, email, NULL, NULL);
  free(email);
  return token;
}

static void test_local_limiter_without_redis(void **state) {
  (void)state;
  char *email = th_unique_email("local");
  th_redis_del_keys("herald:rl:*");
  free(th_register(&srv, email, NULL, NULL));
  assert_int_equal(th_stack("stop-service redis"), 0);
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  struct th_response r;
  for (int i = 0; i < 3; i++) { /* the limit, counted in process */
    assert_int_equal(login(body, &r), 200);
    th_response_free(&r);
  }
  login(body, &r);
  assert_limited(&r, "3");
  th_response_free(&r);
  assert_int_equal(th_stack("start-service redis"), 0);
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 30), 200);
  free(body);
  free(email);
}

static void test_password_change_limited_per_user(void **state) {
  (void)state;
  char *token = new_user("pwlimit");
  const char *headers[] = {th_bearer(token), NULL};
  const char *wrong = "{\"current_password\":\"not-mine-at-all\","
                      "\"new_password\":\"another-good-secret\"}";
  struct th_response r;
  for (int i = 0; i < 2; i++) {
    th_request(&srv, "POST", "/api/v1/users/me/password", headers, wrong, &r);
    th_assert_error(&r, 403, "incorrect_password");
    th_response_free(&r);
  }
  th_request(&srv, "POST", "/api/v1/users/me/password", headers, wrong, &r);
  assert_limited(&r, "2");
  th_response_free(&r);
  /* Another user from the same address has a counter of its own. */
  char *other = new_user("pwlimit2");
  const char *other_headers[] = {th_bearer(other), NULL};
  th_request(&srv, "POST", "/api/v1/users/me/password", other_headers, wrong, &r);
  th_assert_error(&r, 403, "incorrect_password");
  th_response_free(&r);
  free(other);
  free(token);
}

static void test_read_limit_per_user(void **state) {
  (void)state;
  char *token = new_user("readlimit");
  char auth[1024];
  snprintf(auth, sizeof(auth), "%s", th_bearer(token));
  const char *headers[] = {auth, NULL};
  struct th_response r;
  for (int i = 0; i < 4; i++) {
    th_request(&srv, "GET", "/api/v1/users/me", headers, NULL, &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
  }
  th_request(&srv, "GET", "/api/v1/users/me/preferences", headers, NULL, &r);
  assert_limited(&r, "4");
  th_response_free(&r);
  /* Writes are another group. */
  th_request(&srv, "PATCH", "/api/v1/users/me", headers, "{\"name\":\"Limited Reader\"}", &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  /* Probes are never limited. */
  for (int i = 0; i < 6; i++) {
    th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
  }
  free(token);
}

static void test_write_limit_per_ip_across_users(void **state) {
  (void)state;
  char *a = new_user("ipwrite-a");
  char *b = new_user("ipwrite-b"); /* clears the counters: both start from zero */
  struct th_response r;
  for (int i = 0; i < 5; i++) { /* one address, two users: one counter */
    const char *headers[] = {th_bearer(i % 2 == 0 ? a : b), NULL};
    th_request(&srv, "PATCH", "/api/v1/users/me", headers, "{\"name\":\"Shared Address\"}", &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
  }
  const char *headers[] = {th_bearer(b), NULL};
  th_request(&srv, "PATCH", "/api/v1/users/me", headers, "{\"name\":\"Shared Address\"}", &r);
  assert_limited(&r, "5");
  th_response_free(&r);
  free(a);
  free(b);
}

/* The count of a Redis key, or -1. */
static long redis_count(const char *key) {
  redisContext *c = redisConnect("127.0.0.1", atoi(getenv("HERALD_REDIS_PORT")));
  redisReply *v = redisCommand(c, "GET %s", key);
  long n = v != NULL && v->type == REDIS_REPLY_STRING ? atol(v->str) : -1;
  freeReplyObject(v);
  redisFree(c);
  return n;
}

/* Two API processes taking the counts of one limit in leases (HERALD_RATE_LIMIT_LEASE): the
 * first request takes a block of an eighth of the limit from Redis and the next ones of that
 * process count from it without a round trip; across both processes no more than the limit
 * is admitted, and no fewer than the limit minus one block per process. */
static void test_leases_across_processes(void **state) {
  (void)state;
  setenv("HERALD_RATE_LIMIT_READ_USER", "80", 1);
  setenv("HERALD_RATE_LIMIT_READ_IP", "0", 1);
  char *secret = getenv("HERALD_JWT_SECRET") != NULL ? strdup(getenv("HERALD_JWT_SECRET")) : NULL;
  setenv("HERALD_JWT_SECRET", "lease-test-secret-lease-test-secret-0123456789", 1);
  struct th_server a, b;
  th_start(&a);
  th_start(&b); /* same database, Redis and signing key */
  if (secret != NULL) {
    setenv("HERALD_JWT_SECRET", secret, 1);
  } else {
    unsetenv("HERALD_JWT_SECRET");
  }
  free(secret);
  char *email = th_unique_email("leases");
  th_redis_del_keys("herald:rl:*");
  char *token = th_register(&a, email, NULL, NULL);
  free(email);
  char auth[1024];
  snprintf(auth, sizeof(auth), "%s", th_bearer(token));
  const char *headers[] = {auth, NULL};
  struct th_response r;
  th_request(&a, "GET", "/api/v1/users/me", headers, NULL, &r);
  assert_int_equal(r.status, 200);
  char key[128];
  snprintf(key, sizeof(key), "herald:rl:read:u:%s", th_str(r.json, "id"));
  th_response_free(&r);
  assert_int_equal(redis_count(key), 10); /* a block of 80 / 8 */
  th_request(&a, "GET", "/api/v1/users/me", headers, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  assert_int_equal(redis_count(key), 10); /* counted from the block */
  int admitted = 2, limited = 0;
  for (int i = 0; i < 120; i++) {
    th_request(i % 2 == 0 ? &b : &a, "GET", "/api/v1/users/me", headers, NULL, &r);
    if (r.status == 429) {
      limited++;
    } else {
      assert_int_equal(r.status, 200);
      admitted++;
    }
    th_response_free(&r);
  }
  assert_true(admitted <= 80);
  assert_true(admitted >= 80 - 2 * 10);
  assert_int_equal(admitted + limited, 122);
  assert_true(redis_count(key) >= admitted);
  th_stop(&b);
  th_stop(&a);
  free(token);
  setenv("HERALD_RATE_LIMIT_READ_USER", "4", 1);
  setenv("HERALD_RATE_LIMIT_READ_IP", "8", 1);
}

static void test_failed_credentials_count_per_ip(void **state) {
  (void)state;
  th_redis_del_keys("herald:rl:*");
  const char *headers[] = {"Authorization: Bearer not-a-valid-token", NULL};
  struct th_response r;
  for (int i = 0; i < 8; i++) {
    th_request(&srv, "GET", "/api/v1/users/me", headers, NULL, &r);
    th_assert_error(&r, 401, "invalid_token");
    th_response_free(&r);
  }
  th_request(&srv, "GET", "/api/v1/users/me", headers, NULL, &r);
  assert_limited(&r, "8");
  assert_null(th_header(&r, "WWW-Authenticate"));
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_limit_then_429),
    cmocka_unit_test(test_password_change_limited_per_user),
    cmocka_unit_test(test_leases_across_processes),
    cmocka_unit_test(test_read_limit_per_user),
    cmocka_unit_test(test_write_limit_per_ip_across_users),
    cmocka_unit_test(test_failed_credentials_count_per_ip),
    cmocka_unit_test(test_local_limiter_without_redis),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

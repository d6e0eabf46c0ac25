/* Integration: per-IP limits on the auth endpoints, with Retry-After; without
 * Redis they fail open so sign-in keeps working. */
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

static void test_limit_then_429(void **state) {
  (void)state;
  struct th_response r;
  const char *body = "{\"email\":\"limited@example.com\",\"password\":\"whatever-123\"}";
  for (int i = 0; i < 3; i++) {
    assert_int_equal(login(body, &r), 401);
    th_response_free(&r);
  }
  login(body, &r);
  th_assert_error(&r, 429, "rate_limited");
  long retry = atol(th_header(&r, "Retry-After"));
  assert_true(retry >= 1 && retry <= 30);
  assert_string_equal(th_str(json_object_get(r.json, "error"), "type"), "rate_limit_error");
  th_response_free(&r);
  /* Other buckets are counted separately. */
  th_request(&srv, "POST", "/api/v1/auth/password-reset", NULL,
             "{\"email\":\"limited@example.com\"}", &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
}

static void test_fails_open_without_redis(void **state) {
  (void)state;
  char *email = th_unique_email("open");
  th_redis_del_keys("herald:rl:*");
  free(th_register(&srv, email, NULL, NULL));
  assert_int_equal(th_stack("stop-service redis"), 0);
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  struct th_response r;
  for (int i = 0; i < 5; i++) { /* more than the limit: nothing counts them */
    assert_int_equal(login(body, &r), 200);
    th_response_free(&r);
  }
  assert_int_equal(th_stack("start-service redis"), 0);
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 30), 200);
  free(body);
  free(email);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_limit_then_429),
    cmocka_unit_test(test_fails_open_without_redis),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: PostgreSQL or Redis going away never crashes the API; /readyz says
 * which one is down (503) and recovers by itself when it returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct th_server srv;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_DB_CONNECT_TIMEOUT_S", "1", 1);
  setenv("HERALD_REDIS_TIMEOUT_MS", "300", 1);
  th_start(&srv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

static void expect_down(const char *which) {
  struct th_response r;
  th_request(&srv, "GET", "/readyz", NULL, NULL, &r);
  if (r.status != 503) {
    th_response_free(&r);
    th_request(&srv, "GET", "/readyz", NULL, NULL, &r); /* a pooled connection may need one use to notice */
  }
  assert_int_equal(r.status, 503);
  char want[96];
  snprintf(want, sizeof(want), "{\"status\":\"unavailable\",\"checks\":{\"%s\":\"down\"}}", which);
  th_assert_json_subset(want, r.json);
  assert_string_equal(th_header(&r, "Retry-After"), "5");
  th_response_free(&r);
  /* The process keeps serving what does not need the backend. */
  th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
}

static void test_postgres_down_and_back(void **state) {
  (void)state;
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 10), 200);
  assert_int_equal(th_stack("stop-service postgres"), 0);
  expect_down("postgres");
  expect_down("postgres");
  assert_int_equal(th_stack("start-service postgres"), 0);
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 30), 200);
}

static void test_redis_down_and_back(void **state) {
  (void)state;
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 10), 200);
  assert_int_equal(th_stack("stop-service redis"), 0);
  expect_down("redis");
  assert_int_equal(th_stack("start-service redis"), 0);
  assert_int_equal(th_wait_status(&srv, "/readyz", 200, 30), 200);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_postgres_down_and_back),
    cmocka_unit_test(test_redis_down_and_back),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

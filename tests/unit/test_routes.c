/* Unit tests: route pattern matching and the Allow list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "routes.h"

static void test_match(void **state) {
  (void)state;
  assert_true(h_route_path_match("/healthz", "/healthz"));
  assert_true(h_route_path_match("/healthz", "/healthz/"));
  assert_false(h_route_path_match("/healthz", "/healthzz"));
  assert_false(h_route_path_match("/healthz", "/"));
  assert_true(h_route_path_match("/api/v1/users/:id", "/api/v1/users/42"));
  assert_false(h_route_path_match("/api/v1/users/:id", "/api/v1/users"));
  assert_false(h_route_path_match("/api/v1/users/:id", "/api/v1/users/42/x"));
  assert_true(h_route_path_match("/a/:x/b", "/a/1/b"));
  assert_false(h_route_path_match("/a/:x/b", "/a/1/c"));
}

static void test_allowed_methods(void **state) {
  (void)state;
  char allow[64];
  assert_int_equal(h_route_allowed_methods("/healthz", allow, sizeof(allow)), 1);
  assert_string_equal(allow, "GET");
  assert_int_equal(h_route_allowed_methods("/nope", allow, sizeof(allow)), 0);
  assert_string_equal(allow, "");
}

static void test_table_is_well_formed(void **state) {
  (void)state;
  int n = 0;
  for (const struct h_route *r = h_routes(); r->method != NULL; r++, n++) {
    assert_non_null(r->handler);
    assert_true(r->path[0] == '/');
  }
  assert_true(n >= 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_match),
    cmocka_unit_test(test_allowed_methods),
    cmocka_unit_test(test_table_is_well_formed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

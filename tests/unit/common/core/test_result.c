/* Unit tests of common/core/result.c: every code named, its wire type and code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/result.h"

static void test_every_code_is_named(void **state) {
  (void)state;
  for (int r = 0; r < H_RESULT_COUNT; r++) {
    assert_non_null(h_result_name((h_result)r));
    assert_true(strncmp(h_result_name((h_result)r), "H_", 2) == 0);
  }
}

static void test_out_of_range_is_api_error(void **state) {
  (void)state;
  assert_string_equal(h_result_error_type((h_result)-1), "api_error");
}

static void test_types(void **state) {
  (void)state;
  assert_string_equal(h_result_error_type(H_ERR_INVALID), "invalid_request_error");
  assert_string_equal(h_result_error_type(H_ERR_UNAUTHORIZED), "authentication_error");
  assert_string_equal(h_result_error_type(H_ERR_RATE_LIMITED), "rate_limit_error");
  assert_string_equal(h_result_error_code(H_ERR_NOT_FOUND), "not_found");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_code_is_named),
    cmocka_unit_test(test_out_of_range_is_api_error),
    cmocka_unit_test(test_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: result codes map to the documented HTTP statuses and wire types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/result.h"

static void test_statuses(void **state) {
  (void)state;
  assert_int_equal(h_result_http_status(H_ERR_INVALID), 400);
  assert_int_equal(h_result_http_status(H_ERR_UNAUTHORIZED), 401);
  assert_int_equal(h_result_http_status(H_ERR_FORBIDDEN), 403);
  assert_int_equal(h_result_http_status(H_ERR_NOT_FOUND), 404);
  assert_int_equal(h_result_http_status(H_ERR_METHOD), 405);
  assert_int_equal(h_result_http_status(H_ERR_CONFLICT), 409);
  assert_int_equal(h_result_http_status(H_ERR_TOO_LARGE), 413);
  assert_int_equal(h_result_http_status(H_ERR_MEDIA_TYPE), 415);
  assert_int_equal(h_result_http_status(H_ERR_UNPROCESSABLE), 422);
  assert_int_equal(h_result_http_status(H_ERR_RATE_LIMITED), 429);
  assert_int_equal(h_result_http_status(H_ERR_UNAVAILABLE), 503);
  assert_int_equal(h_result_http_status(H_ERR_INTERNAL), 500);
}

static void test_every_code_is_named(void **state) {
  (void)state;
  for (int r = 0; r < H_RESULT_COUNT; r++) {
    assert_non_null(h_result_name((h_result)r));
    assert_true(strncmp(h_result_name((h_result)r), "H_", 2) == 0);
  }
}

static void test_out_of_range_is_internal(void **state) {
  (void)state;
  assert_int_equal(h_result_http_status((h_result)999), 500);
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
    cmocka_unit_test(test_statuses),
    cmocka_unit_test(test_every_code_is_named),
    cmocka_unit_test(test_out_of_range_is_internal),
    cmocka_unit_test(test_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

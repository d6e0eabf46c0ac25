/* Unit tests of the one result-to-status mapping (api/http/http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/result.h"
#include "http/http.h"

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

static void test_out_of_range_is_internal(void **state) {
  (void)state;
  assert_int_equal(h_result_http_status((h_result)999), 500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_statuses),
    cmocka_unit_test(test_out_of_range_is_internal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

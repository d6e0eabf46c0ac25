/* Unit tests: request helpers that need no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"
#include "http/middleware.h"

static void test_content_type(void **state) {
  (void)state;
  assert_true(h_is_json_content_type("application/json"));
  assert_true(h_is_json_content_type("application/json; charset=utf-8"));
  assert_true(h_is_json_content_type("Application/JSON"));
  assert_false(h_is_json_content_type("application/jsonp"));
  assert_false(h_is_json_content_type("text/plain"));
  assert_false(h_is_json_content_type("application/x-www-form-urlencoded"));
  assert_false(h_is_json_content_type(NULL));
}

static void test_request_id(void **state) {
  (void)state;
  assert_true(h_request_id_valid("abc-123_X.y:z"));
  assert_false(h_request_id_valid(""));
  assert_false(h_request_id_valid(NULL));
  assert_false(h_request_id_valid("has space"));
  assert_false(h_request_id_valid("inject\r\nX-Evil: 1"));
  char longid[66];
  memset(longid, 'a', 65);
  longid[65] = '\0';
  assert_false(h_request_id_valid(longid));
  longid[64] = '\0';
  assert_true(h_request_id_valid(longid));
}

static void test_json_depth(void **state) {
  (void)state;
  const char *ok = "{\"a\":[{\"b\":1}]}";
  assert_true(h_json_depth_ok(ok, strlen(ok), 3));
  assert_false(h_json_depth_ok(ok, strlen(ok), 2));
  const char *in_string = "{\"a\":\"[[[[[[[[\"}";
  assert_true(h_json_depth_ok(in_string, strlen(in_string), 1));
  const char *escaped = "{\"a\":\"\\\"[[[[\"}";
  assert_true(h_json_depth_ok(escaped, strlen(escaped), 1));
}

static void test_cors(void **state) {
  (void)state;
  assert_true(h_cors_origin_allowed("https://app.example.com, https://admin.example.com",
                                    "https://admin.example.com"));
  assert_false(h_cors_origin_allowed("https://app.example.com", "https://app.example.com.evil"));
  assert_false(h_cors_origin_allowed("https://app.example.com", "https://app.example.co"));
  assert_true(h_cors_origin_allowed("*", "https://anything"));
  assert_false(h_cors_origin_allowed("", "https://anything"));
  assert_false(h_cors_origin_allowed("*", NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_content_type),
    cmocka_unit_test(test_request_id),
    cmocka_unit_test(test_json_depth),
    cmocka_unit_test(test_cors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

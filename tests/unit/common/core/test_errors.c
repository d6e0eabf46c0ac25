/* Unit tests: the error body shape and field-error collection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/errors.h"

static void test_body_shape(void **state) {
  (void)state;
  json_t *b = h_error_body(H_ERR_NOT_FOUND, NULL, "No such route.", NULL, NULL);
  json_t *e = json_object_get(b, "error");
  assert_string_equal(json_string_value(json_object_get(e, "type")), "invalid_request_error");
  assert_string_equal(json_string_value(json_object_get(e, "code")), "not_found");
  assert_string_equal(json_string_value(json_object_get(e, "message")), "No such route.");
  assert_null(json_object_get(e, "param"));
  assert_null(json_object_get(e, "errors"));
  assert_int_equal(json_object_size(b), 1);
  json_decref(b);
}

static void test_field_errors_listed(void **state) {
  (void)state;
  struct h_field_errors fe = {0};
  assert_int_equal(h_field_errors_count(&fe), 0);
  h_field_error(&fe, "email", "invalid_email", "'%s' is not an e-mail address", "x");
  h_field_error(&fe, "password", "too_short", "at least %d characters", 10);
  assert_int_equal(h_field_errors_count(&fe), 2);
  json_t *b = h_field_errors_body(&fe);
  assert_int_equal(h_field_errors_count(&fe), 0);
  json_t *e = json_object_get(b, "error");
  assert_string_equal(json_string_value(json_object_get(e, "param")), "email");
  assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid_email");
  json_t *list = json_object_get(e, "errors");
  assert_int_equal(json_array_size(list), 2);
  json_t *second = json_array_get(list, 1);
  assert_string_equal(json_string_value(json_object_get(second, "param")), "password");
  assert_string_equal(json_string_value(json_object_get(second, "message")),
                      "at least 10 characters");
  json_decref(b);
}

static void test_invalid_utf8_kept(void **state) {
  (void)state;
  struct h_field_errors fe = {0};
  /* "metadata." + "é" cut after its first byte, and a message quoting a stray byte. */
  h_field_error(&fe, "metadata.\xc3", "invalid_metadata_key", "Bad \xff key %s.", "\xe2\x82");
  assert_int_equal(h_field_errors_count(&fe), 1);
  json_t *b = h_field_errors_body(&fe);
  json_t *e = json_object_get(b, "error");
  assert_string_equal(json_string_value(json_object_get(e, "param")), "metadata.?");
  assert_string_equal(json_string_value(json_object_get(e, "message")), "Bad ? key ??.");
  json_decref(b);
  char ok[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", bad[] = "\xed\xa0\x80\xc0\xaf";
  h_utf8_repair(ok);
  assert_string_equal(ok, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  h_utf8_repair(bad); /* a surrogate and an overlong '/' */
  assert_string_equal(bad, "?????");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_body_shape),
    cmocka_unit_test(test_field_errors_listed),
    cmocka_unit_test(test_invalid_utf8_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: masking of personal data and level parsing (core/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"

static void test_mask(void **state) {
  (void)state;
  char out[64];
  h_mask_email("jane.doe@example.com", out, sizeof(out));
  assert_string_equal(out, "j***@example.com");
  h_mask_email("nobody", out, sizeof(out));
  assert_string_equal(out, "***");
  h_mask_email(NULL, out, sizeof(out));
  assert_string_equal(out, "***");
  h_mask_phone("+14155550123", out, sizeof(out));
  assert_string_equal(out, "+1*******123");
  assert_null(strstr(out, "5550"));
  h_mask_token("abcdefghijklmnop", out, sizeof(out));
  assert_string_equal(out, "abcd***");
  h_mask_token("short", out, sizeof(out));
  assert_string_equal(out, "***");
}

static void test_levels(void **state) {
  (void)state;
  assert_int_equal(h_log_level_parse("error"), H_LOG_ERROR);
  assert_int_equal(h_log_level_parse("debug"), H_LOG_DEBUG);
  assert_int_equal(h_log_level_parse("verbose"), -1);
  assert_int_equal(h_log_level_parse(NULL), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mask),
    cmocka_unit_test(test_levels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

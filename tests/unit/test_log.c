/* Unit tests: masking of personal data and level parsing; DB error mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "store/db.h"
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

static void test_sqlstate(void **state) {
  (void)state;
  assert_int_equal(h_db_map_sqlstate("23505"), H_ERR_CONFLICT);
  assert_int_equal(h_db_map_sqlstate("40001"), H_ERR_CONFLICT);
  assert_int_equal(h_db_map_sqlstate("23503"), H_ERR_INVALID);
  assert_int_equal(h_db_map_sqlstate("22P02"), H_ERR_INVALID);
  assert_int_equal(h_db_map_sqlstate("57014"), H_ERR_TIMEOUT);
  assert_int_equal(h_db_map_sqlstate("08006"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_db_map_sqlstate("57P01"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_db_map_sqlstate("42P01"), H_ERR_INTERNAL);
  assert_int_equal(h_db_map_sqlstate(NULL), H_ERR_INTERNAL);
  assert_int_equal(h_db_map_sqlstate("235"), H_ERR_INTERNAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mask),
    cmocka_unit_test(test_levels),
    cmocka_unit_test(test_sqlstate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

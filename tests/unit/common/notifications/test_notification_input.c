/* Unit tests: the parsing of send_at and category checks (notifications/notification_input.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "notifications/notification_input.h"

static void test_rfc3339(void **state) {
  (void)state;
  time_t t = 0;
  assert_true(h_rfc3339_parse("2027-01-31T12:00:00Z", &t));
  assert_int_equal(t, 1801396800);
  assert_true(h_rfc3339_parse("2027-01-31T14:00:00.250+02:00", &t));
  assert_int_equal(t, 1801396800);
  assert_true(h_rfc3339_parse("2027-01-31T07:00:00-05:00", &t));
  assert_int_equal(t, 1801396800);
  assert_false(h_rfc3339_parse("2027-01-31 12:00:00Z", &t));
  assert_false(h_rfc3339_parse("2027-01-31T12:00:00", &t));
  assert_false(h_rfc3339_parse("tomorrow", &t));
  assert_false(h_rfc3339_parse("2027-01-31T12:00:00+25:00", &t));
  assert_true(h_category_valid("billing.v2:eu-1"));
  assert_false(h_category_valid("has space"));
  assert_false(h_category_valid(""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rfc3339),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

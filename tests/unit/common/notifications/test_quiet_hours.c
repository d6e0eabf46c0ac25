/* Unit tests: quiet-hours windows on local wall-clock time (crossing midnight, month and
 * year ends, leap days). Zone conversion is PostgreSQL's, tested in integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "notifications/quiet_hours.h"

static int hm(int h, int m) { return h * 60 + m; }

static void test_parse_hhmm(void **state) {
  (void)state;
  int m = -1;
  assert_true(h_quiet_parse_hhmm("00:00", &m));
  assert_int_equal(m, 0);
  assert_true(h_quiet_parse_hhmm("23:59", &m));
  assert_int_equal(m, hm(23, 59));
  assert_true(h_quiet_parse_hhmm("07:05", &m));
  assert_int_equal(m, hm(7, 5));
  const char *bad[] = {"24:00", "7:00", "07:60", "0700", "07:00:00", "ab:cd", "", " 7:00", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_false(h_quiet_parse_hhmm(bad[i], &m));
  }
  assert_false(h_quiet_parse_hhmm(NULL, &m));
}

static void test_contains(void **state) {
  (void)state;
  /* Same day: [09:00, 17:00). */
  assert_false(h_quiet_contains(hm(9, 0), hm(17, 0), hm(8, 59)));
  assert_true(h_quiet_contains(hm(9, 0), hm(17, 0), hm(9, 0)));
  assert_true(h_quiet_contains(hm(9, 0), hm(17, 0), hm(16, 59)));
  assert_false(h_quiet_contains(hm(9, 0), hm(17, 0), hm(17, 0)));
  /* Across midnight: [22:00, 07:00). */
  assert_true(h_quiet_contains(hm(22, 0), hm(7, 0), hm(22, 0)));
  assert_true(h_quiet_contains(hm(22, 0), hm(7, 0), hm(23, 59)));
  assert_true(h_quiet_contains(hm(22, 0), hm(7, 0), 0));
  assert_true(h_quiet_contains(hm(22, 0), hm(7, 0), hm(6, 59)));
  assert_false(h_quiet_contains(hm(22, 0), hm(7, 0), hm(7, 0)));
  assert_false(h_quiet_contains(hm(22, 0), hm(7, 0), hm(12, 0)));
  assert_false(h_quiet_contains(hm(21, 59), hm(21, 59), hm(21, 59)));
}

static void expect_until(int start, int end, const char *now, const char *want) {
  struct h_local_time t, until;
  assert_true(h_quiet_parse_local(now, &t));
  if (want == NULL) {
    assert_false(h_quiet_until(start, end, &t, &until));
    return;
  }
  assert_true(h_quiet_until(start, end, &t, &until));
  char got[24];
  h_quiet_format_local(&until, got, sizeof(got));
  assert_string_equal(got, want);
}

static void test_until(void **state) {
  (void)state;
  expect_until(hm(22, 0), hm(7, 0), "2027-01-15 23:30", "2027-01-16 07:00:00");
  expect_until(hm(22, 0), hm(7, 0), "2027-01-16 02:10", "2027-01-16 07:00:00");
  expect_until(hm(22, 0), hm(7, 0), "2027-01-16 07:00", NULL);
  expect_until(hm(22, 0), hm(7, 0), "2027-01-16 21:59:59", NULL);
  expect_until(hm(9, 0), hm(17, 30), "2027-01-16 12:00:00", "2027-01-16 17:30:00");
  /* Month, year and leap-day ends. */
  expect_until(hm(22, 0), hm(7, 0), "2027-01-31 22:00", "2027-02-01 07:00:00");
  expect_until(hm(22, 0), hm(7, 0), "2027-12-31 23:00", "2028-01-01 07:00:00");
  expect_until(hm(22, 0), hm(7, 0), "2028-02-28 23:00", "2028-02-29 07:00:00");
  expect_until(hm(22, 0), hm(7, 0), "2027-02-28 23:00", "2027-03-01 07:00:00");
  expect_until(hm(23, 0), hm(0, 30), "2027-06-30 23:15", "2027-07-01 00:30:00");
}

static void test_parse_local(void **state) {
  (void)state;
  struct h_local_time t;
  assert_true(h_quiet_parse_local("2028-02-29 06:07", &t));
  assert_int_equal(t.year, 2028);
  assert_int_equal(t.month, 2);
  assert_int_equal(t.day, 29);
  assert_int_equal(t.minute, hm(6, 7));
  const char *bad[] = {"2027-02-29 06:07", "2027-13-01 00:00", "2027-01-01T00:00",
                       "2027-01-01 24:00", "2027-1-01 00:00", "", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_false(h_quiet_parse_local(bad[i], &t));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_hhmm),
    cmocka_unit_test(test_contains),
    cmocka_unit_test(test_until),
    cmocka_unit_test(test_parse_local),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

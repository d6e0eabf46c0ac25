/* Unit: the sync schedule and the period parser of reconciliation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>

#include "reconcile/reconcile.h"

static void test_schedule(void **state) {
  (void)state;
  static const int want[] = {60, 300, 300, 300, 300, 300, 3600, 86400};
  for (int i = 0; i < H_SYNC_STEPS; i++) {
    assert_int_equal(h_reconcile_sync_delay(i), want[i]);
  }
  assert_int_equal(h_reconcile_sync_delay(H_SYNC_STEPS), -1);
  assert_int_equal(h_reconcile_sync_delay(-1), -1);
}

static void test_parse_time(void **state) {
  (void)state;
  time_t t = 0;
  assert_true(h_reconcile_parse_time("2026-01-02", &t));
  assert_int_equal(t, 1767312000);
  assert_true(h_reconcile_parse_time("2026-01-02T03:04:05Z", &t));
  assert_int_equal(t, 1767312000 + 3 * 3600 + 4 * 60 + 5);
  assert_true(h_reconcile_parse_time("2024-02-29", &t));
  static const char *const bad[] = {"", "2026-02-31", "2025-02-29", "2026-13-01", "2026-1-02",
                                    "2026-01-02T24:00:00Z", "2026-01-02T03:04:05+01:00",
                                    "2026-01-02 03:04:05", "yesterday", "1969-12-31",
                                    "2026-01-02x", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_false(h_reconcile_parse_time(bad[i], &t));
  }
  assert_false(h_reconcile_parse_time(NULL, &t));
}

static void test_kind_names(void **state) {
  (void)state;
  assert_string_equal(h_ledger_kind_name(0), "missing_locally");
  assert_string_equal(h_ledger_kind_name(4), "currency_mismatch");
  assert_string_equal(h_ledger_kind_name(5), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_schedule),
    cmocka_unit_test(test_parse_time),
    cmocka_unit_test(test_kind_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: field checks (core/fields.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/fields.h"

static void test_timestamp(void **state) {
  (void)state;
  assert_true(h_valid_timestamp("2026-01-31T12:00:00Z"));
  assert_true(h_valid_timestamp("2026-01-31T12:00:00.123Z"));
  assert_true(h_valid_timestamp("2026-01-31T12:00:00+05:30"));
  assert_true(h_valid_timestamp("2024-02-29T00:00:00Z"));
  assert_false(h_valid_timestamp("2026-02-30T00:00:00Z"));
  assert_false(h_valid_timestamp("2025-02-29T00:00:00Z"));
  assert_false(h_valid_timestamp("2026-01-31T12:00:00+99:99"));
  assert_false(h_valid_timestamp("2026-01-31T12:00:00+05:60"));
  assert_false(h_valid_timestamp("0000-01-01T00:00:00Z"));
  assert_false(h_valid_timestamp("2026-01-31 12:00:00Z"));
  assert_false(h_valid_timestamp("2026-01-31T12:00:00"));
  assert_false(h_valid_timestamp("yesterday"));
  assert_false(h_valid_timestamp(NULL));
}

static void test_timezone(void **state) {
  (void)state;
  assert_true(h_valid_timezone("UTC"));
  assert_true(h_valid_timezone("Europe/Paris"));
  assert_true(h_valid_timezone("America/Argentina/Buenos_Aires"));
  assert_false(h_valid_timezone("Europe//Paris"));
  assert_false(h_valid_timezone("right/UTC"));
  assert_false(h_valid_timezone("posixrules"));
  assert_false(h_valid_timezone("../etc/passwd"));
  assert_false(h_valid_timezone("/etc/passwd"));
  assert_false(h_valid_timezone("Europe/"));
  assert_false(h_valid_timezone("Mars/Olympus"));
  assert_false(h_valid_timezone(""));
}

static void test_contacts(void **state) {
  (void)state;
  assert_true(h_valid_email("a@b.co"));
  assert_false(h_valid_email("a@b"));
  assert_false(h_valid_email("a@@b.co"));
  assert_false(h_valid_email("a b@c.co"));
  assert_false(h_valid_email("a@b..co"));
  assert_true(h_valid_phone("+14155550123"));
  assert_false(h_valid_phone("14155550123"));
  assert_false(h_valid_phone("+0123456789"));
  assert_false(h_valid_phone("+1234"));
  assert_false(h_valid_phone("+1415555012a"));
  assert_true(h_valid_locale("en"));
  assert_true(h_valid_locale("pt-BR"));
  assert_true(h_valid_locale("fil"));
  assert_false(h_valid_locale("EN"));
  assert_false(h_valid_locale("pt_BR"));
  assert_false(h_valid_locale("pt-br"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_timestamp),
    cmocka_unit_test(test_timezone),
    cmocka_unit_test(test_contacts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

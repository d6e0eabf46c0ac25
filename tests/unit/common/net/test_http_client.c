/* Unit: the HTTP client's pure helpers (Retry-After, form encoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "net/http_client.h"

static const time_t now = 1767225600; /* Thu, 01 Jan 2026 00:00:00 GMT */

static void test_retry_after_seconds(void **state) {
  (void)state;
  assert_int_equal(h_http_parse_retry_after("120", now), 120);
  assert_int_equal(h_http_parse_retry_after(" 5\r\n", now), 5);
  assert_int_equal(h_http_parse_retry_after("\t7 ", now), 7);
  assert_int_equal(h_http_parse_retry_after("0", now), 0);
  assert_int_equal(h_http_parse_retry_after("007", now), 7);
  assert_int_equal(h_http_parse_retry_after("604800", now), H_HTTP_RETRY_AFTER_MAX);
}

static void test_retry_after_huge(void **state) {
  (void)state;
  assert_int_equal(h_http_parse_retry_after("604801", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("99999999", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("2147483648", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("99999999999999999999999999999999", now),
                   H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
                   H_HTTP_RETRY_AFTER_MAX);
}

static void test_retry_after_dates(void **state) {
  (void)state;
  /* IMF-fixdate */
  assert_int_equal(h_http_parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT\r\n", now), 30);
  assert_int_equal(h_http_parse_retry_after("Fri, 02 Jan 2026 00:00:00 GMT", now), 86400);
  /* the obsolete forms: RFC 850 (two-digit year) and asctime */
  assert_int_equal(h_http_parse_retry_after("Thursday, 01-Jan-26 00:01:00 GMT", now), 60);
  assert_int_equal(h_http_parse_retry_after("Thu Jan  1 00:02:00 2026", now), 120);
  assert_int_equal(h_http_parse_retry_after("Sat Jan 10 00:00:00 2026", now),
                   H_HTTP_RETRY_AFTER_MAX);
  /* in the past (or now): retry at once */
  assert_int_equal(h_http_parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Sun Nov  6 08:49:37 1994", now), 0);
}

static void test_retry_after_garbage(void **state) {
  (void)state;
  const char *bad[] = {
    "", "  ", "abc", "-1", "+5", "12abc", "1.5", "5 s", "0x10",
    "Thu, 01 Jan 2026 00:00:30", "Thu, 01 Jan 2026 00:00:30 UTC",
    "Thu, 1 Jan 2026 00:00:30 GMT", "Thu, 01 jan 2026 00:00:30 GMT",
    "Thu, 01 Foo 2026 00:00:30 GMT", "Thu, 01 Jan 2026 25:00:30 GMT",
    "Thu, 00 Jan 2026 00:00:30 GMT", "Thu, 01 Jan 2026 00:00:30 GMT x",
    "Thu 01-Jan-26 00:01:00 GMT", "Thu Jan 1 00:02:00 2026",
    "Thursday, 01 Jan 2026 00:00:30 GMT, and more text that runs past the buffer",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(h_http_parse_retry_after(bad[i], now), -1);
  }
}

static void test_form(void **state) {
  (void)state;
  const char *pairs[] = {"To", "+14155550123", "Body", "a b&c=d caf\xc3\xa9", "Skipped", NULL,
                         "From", "MG~x_y.z-", NULL};
  char *form = h_http_form_encode(pairs);
  assert_string_equal(form,
                      "To=%2B14155550123&Body=a%20b%26c%3Dd%20caf%C3%A9&From=MG~x_y.z-");
  free(form);
  const char *none[] = {NULL};
  form = h_http_form_encode(none);
  assert_string_equal(form, "");
  free(form);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_retry_after_seconds),
    cmocka_unit_test(test_retry_after_huge),
    cmocka_unit_test(test_retry_after_dates),
    cmocka_unit_test(test_retry_after_garbage),
    cmocka_unit_test(test_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

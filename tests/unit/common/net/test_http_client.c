/* Unit: the provider HTTP client's pure helpers (Retry-After, form encoding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "net/http_client.h"

static void test_retry_after(void **state) {
  (void)state;
  time_t now = 1767225600; /* Thu, 01 Jan 2026 00:00:00 GMT */
  assert_int_equal(h_http_parse_retry_after("120", now), 120);
  assert_int_equal(h_http_parse_retry_after(" 5\r\n", now), 5);
  assert_int_equal(h_http_parse_retry_after("0", now), 0);
  assert_int_equal(h_http_parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT\r\n", now), 30);
  assert_int_equal(h_http_parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("abc", now), -1);
  assert_int_equal(h_http_parse_retry_after("-1", now), -1);
  assert_int_equal(h_http_parse_retry_after("12abc", now), -1);
  assert_int_equal(h_http_parse_retry_after("99999999", now), -1);
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
    cmocka_unit_test(test_retry_after),
    cmocka_unit_test(test_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

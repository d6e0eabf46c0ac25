/* Unit: SMS segment counting (GSM-7 and UCS-2) and E.164 checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "segments.h"

static void count(const char *s, int segments, int units, bool ucs2) {
  struct h_sms_segments seg;
  h_sms_count(s, &seg);
  assert_int_equal(seg.segments, segments);
  assert_int_equal(seg.units, units);
  assert_int_equal(seg.ucs2, ucs2);
}

/* n copies of the UTF-8 character c. */
static void repeat(char *out, const char *c, int n) {
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    strcat(out, c);
  }
}

static void test_gsm7(void **state) {
  (void)state;
  static char s[2048];
  count("", 1, 0, false);
  repeat(s, "a", 160);
  count(s, 1, 160, false);
  repeat(s, "a", 161);
  count(s, 2, 161, false);
  repeat(s, "a", 306);
  count(s, 2, 306, false);
  repeat(s, "a", 307);
  count(s, 3, 307, false);
  count("caf\xc3\xa9 \xc3\xa0 \xce\x94 @ \xc2\xa3", 1, 12, false); /* é à Δ @ £ are GSM-7 */
  repeat(s, "{", 80); /* extension characters: two septets each */
  count(s, 1, 160, false);
  repeat(s, "{", 81);
  count(s, 2, 162, false);
  repeat(s, "\xe2\x82\xac", 153); /* 306 septets, but 76 euros per segment: never split */
  count(s, 3, 306, false);
}

static void test_ucs2(void **state) {
  (void)state;
  static char s[4096];
  count("`", 1, 1, true); /* the backtick is not GSM-7 */
  count("caf\xc3\xaa", 1, 4, true); /* ê is not either */
  repeat(s, "\xd0\xb6", 70);
  count(s, 1, 70, true);
  repeat(s, "\xd0\xb6", 71);
  count(s, 2, 71, true);
  repeat(s, "\xf0\x9f\x98\x80", 35); /* emoji: surrogate pairs, 2 units each */
  count(s, 1, 70, true);
  repeat(s, "\xf0\x9f\x98\x80", 36); /* 72 units: 33 per segment, pairs never split */
  count(s, 2, 72, true);
  repeat(s, "\xf0\x9f\x98\x80", 67); /* 134 units: 33 + 33 + 1, not 2 segments */
  count(s, 3, 134, true);
  count("\xff\xfe", 1, 2, true); /* invalid UTF-8: replacement characters */
}

static void test_e164(void **state) {
  (void)state;
  assert_true(h_sms_e164("+14155550123"));
  assert_true(h_sms_e164("+1234567"));
  assert_true(h_sms_e164("+123456789012345"));
  assert_false(h_sms_e164("+1234567890123456"));
  assert_false(h_sms_e164("+123456"));
  assert_false(h_sms_e164("14155550123"));
  assert_false(h_sms_e164("+04155550123"));
  assert_false(h_sms_e164("+1415555012a"));
  assert_false(h_sms_e164(""));
  assert_false(h_sms_e164(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gsm7),
    cmocka_unit_test(test_ucs2),
    cmocka_unit_test(test_e164),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: bounded copies of C strings (core/text.h), against snprintf(dst, n, "%s", src),
 * which they replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"

static void test_copy_as_snprintf(void **state) {
  (void)state;
  static const char *const sources[] = {"", "a", "0123456", "01234567", "012345678",
                                        "caf\xc3\xa9 and more than eight bytes"};
  for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
    for (size_t size = 1; size <= 12; size++) {
      char got[16], want[16];
      memset(got, 'x', sizeof(got));
      memset(want, 'x', sizeof(want));
      bool whole = h_copy(got, size, sources[i]);
      int n = snprintf(want, size, "%s", sources[i]);
      assert_memory_equal(got, want, sizeof(got)); /* nothing written past size */
      assert_int_equal(whole, (size_t)n < size);
    }
  }
}

static void test_copy_onto_itself(void **state) {
  (void)state;
  char s[8] = "abcdef";
  assert_false(h_copy(s, 4, s));
  assert_string_equal(s, "abc");
  assert_true(h_copy(s, sizeof(s), s));
  assert_string_equal(s, "abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_copy_as_snprintf),
    cmocka_unit_test(test_copy_onto_itself),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

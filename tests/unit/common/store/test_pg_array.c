/* Unit tests: PostgreSQL array literals (store/pg_array.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "store/pg_array.h"

static void test_empty(void **state) {
  (void)state;
  struct h_pg_array a = {0};
  assert_string_equal(h_pg_array_text(&a), "{}");
  h_pg_array_free(&a);
  h_pg_array_free(&a); /* freeing twice is harmless */
}

static void test_elements_quoted_and_escaped(void **state) {
  (void)state;
  struct h_pg_array a = {0};
  h_pg_array_add(&a, "plain");
  h_pg_array_add(&a, NULL);
  h_pg_array_add(&a, "a \"quote\", a \\ and {braces}");
  h_pg_array_add(&a, "");
  h_pg_array_add(&a, "NULL"); /* the word, quoted: not an SQL NULL */
  assert_string_equal(h_pg_array_text(&a),
                      "{\"plain\",NULL,\"a \\\"quote\\\", a \\\\ and {braces}\",\"\",\"NULL\"}");
  h_pg_array_free(&a);
}

static void test_bools_and_numbers(void **state) {
  (void)state;
  struct h_pg_array a = {0};
  h_pg_array_add_bool(&a, 1);
  h_pg_array_add_bool(&a, 0);
  h_pg_array_add_long(&a, -42);
  h_pg_array_add_long(&a, 202);
  assert_string_equal(h_pg_array_text(&a), "{t,f,-42,202}");
  h_pg_array_free(&a);
}

static void test_text_then_more(void **state) {
  (void)state;
  /* Reading the literal closes it only for the reader: adding goes on after it, across
   * buffer growth (elements much larger than the first allocation). */
  struct h_pg_array a = {0};
  h_pg_array_add(&a, "x");
  assert_string_equal(h_pg_array_text(&a), "{\"x\"}");
  char big[5000];
  memset(big, '"', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  h_pg_array_add(&a, big);
  const char *t = h_pg_array_text(&a);
  assert_int_equal(strlen(t), 1 + 3 + 1 + 2 + 2 * (sizeof(big) - 1) + 1);
  assert_int_equal(a.n, 2);
  assert_true(strncmp(t, "{\"x\",\"\\\"\\\"", 10) == 0);
  assert_string_equal(t + strlen(t) - 4, "\\\"\"}");
  h_pg_array_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_elements_quoted_and_escaped),
    cmocka_unit_test(test_bools_and_numbers),
    cmocka_unit_test(test_text_then_more),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* Big-endian 32-bit integer at p. */
static unsigned int u32(const char *p) {
  const unsigned char *b = (const unsigned char *)p;
  return (unsigned int)b[0] << 24 | (unsigned int)b[1] << 16 | (unsigned int)b[2] << 8 | b[3];
}

static void test_binary_uuids_with_a_null(void **state) {
  (void)state;
  struct h_pg_array a = {0};
  h_pg_array_binary(&a, H_PG_UUID);
  h_pg_array_add(&a, "0123abcd-4567-89EF-0123-456789abcdef");
  h_pg_array_add(&a, NULL);
  int len = -1, fmt = -1;
  const char *p = h_pg_array_param(&a, &len, &fmt);
  assert_int_equal(fmt, 1);
  assert_int_equal(len, 20 + 4 + 16 + 4);
  assert_int_equal(u32(p), 1);         /* one dimension */
  assert_int_equal(u32(p + 4), 0);     /* flags */
  assert_int_equal(u32(p + 8), 2950);  /* uuid */
  assert_int_equal(u32(p + 12), 2);    /* two elements */
  assert_int_equal(u32(p + 16), 1);    /* from 1 */
  assert_int_equal(u32(p + 20), 16);
  static const unsigned char bytes[16] = {0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xef,
                                          0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  assert_memory_equal(p + 24, bytes, 16);
  assert_int_equal(u32(p + 40), 0xffffffffu); /* NULL: length -1 */
  assert_false(a.bad);
  h_pg_array_free(&a);
  assert_int_equal(a.elem, H_PG_UUID); /* the form outlives a free */
}

static void test_binary_bad_uuids_are_flagged(void **state) {
  (void)state;
  static const char *const bad[] = {"", "0123abcd-4567-89ef-0123-456789abcde",
                                    "0123abcd44567-89ef-0123-456789abcdef",
                                    "0123abcd-4567-89ef-0123-456789abcdeg",
                                    "{0123abcd-4567-89ef-0123-456789abcd}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct h_pg_array a = {0};
    h_pg_array_binary(&a, H_PG_UUID);
    h_pg_array_add(&a, bad[i]);
    assert_true(a.bad);
    h_pg_array_free(&a);
    assert_false(a.bad);
  }
}

static void test_binary_text_jsonb_bool_int(void **state) {
  (void)state;
  struct h_pg_array t = {0}, j = {0}, b = {0}, n = {0};
  h_pg_array_binary(&t, H_PG_TEXT);
  h_pg_array_binary(&j, H_PG_JSONB);
  h_pg_array_binary(&b, H_PG_BOOL);
  h_pg_array_binary(&n, H_PG_INT4);
  h_pg_array_add(&t, "a \"quote\", {braces}");
  h_pg_array_add(&j, "{}");
  h_pg_array_add_bool(&b, 1);
  h_pg_array_add_bool(&b, 0);
  h_pg_array_add_long(&n, -2);
  int len, fmt;
  const char *p = h_pg_array_param(&t, &len, &fmt);
  assert_int_equal(u32(p + 8), 25);
  assert_int_equal(u32(p + 20), 19);
  assert_memory_equal(p + 24, "a \"quote\", {braces}", 19); /* as is: nothing escaped */
  assert_int_equal(len, 43);
  p = h_pg_array_param(&j, &len, &fmt);
  assert_int_equal(u32(p + 8), 3802);
  assert_int_equal(u32(p + 20), 3);
  assert_memory_equal(p + 24, "\001{}", 3); /* jsonb: version 1, then the text */
  p = h_pg_array_param(&b, &len, &fmt);
  assert_int_equal(u32(p + 8), 16);
  assert_int_equal(len, 20 + 2 * 5);
  assert_int_equal(p[24], 1);
  assert_int_equal(p[29], 0);
  p = h_pg_array_param(&n, &len, &fmt);
  assert_int_equal(u32(p + 8), 23);
  assert_int_equal(u32(p + 20), 4);
  assert_int_equal(u32(p + 24), 0xfffffffeu);
  h_pg_array_free(&t);
  h_pg_array_free(&j);
  h_pg_array_free(&b);
  h_pg_array_free(&n);
}

static void test_binary_empty_and_literal_param(void **state) {
  (void)state;
  struct h_pg_array a = {0};
  h_pg_array_binary(&a, H_PG_TEXT);
  int len, fmt;
  const char *p = h_pg_array_param(&a, &len, &fmt);
  assert_int_equal(len, 12); /* no dimension */
  assert_int_equal(u32(p), 0);
  assert_int_equal(u32(p + 8), 25);
  h_pg_array_free(&a);
  struct h_pg_array l = {0};
  h_pg_array_add(&l, "x");
  assert_string_equal(h_pg_array_param(&l, &len, &fmt), "{\"x\"}");
  assert_int_equal(fmt, 0);
  h_pg_array_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_elements_quoted_and_escaped),
    cmocka_unit_test(test_bools_and_numbers),
    cmocka_unit_test(test_text_then_more),
    cmocka_unit_test(test_binary_uuids_with_a_null),
    cmocka_unit_test(test_binary_bad_uuids_are_flagged),
    cmocka_unit_test(test_binary_text_jsonb_bool_int),
    cmocka_unit_test(test_binary_empty_and_literal_param),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

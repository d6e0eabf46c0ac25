/* Unit tests: PostgreSQL array literals (store/pg_array.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
  h_pg_array_add_long(&a, 9000000000LL);
  h_pg_array_add_double(&a, 1700000000.25);
  h_pg_array_add_double(&a, 0.1); /* 17 digits: it reads back as the same double */
  assert_string_equal(h_pg_array_text(&a),
                      "{t,f,-42,202,9000000000,1700000000.25,0.10000000000000001}");
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

/* The big-endian int32 at p. */
static int32_t be32(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

static void test_binary_empty(void **state) {
  (void)state;
  struct h_pg_array a = {.oid = H_PG_OID_UUID};
  int len = -1, format = -1;
  const char *p = h_pg_array_param(&a, &len, &format);
  assert_non_null(p);
  assert_int_equal(format, 1);
  assert_int_equal(len, 12); /* ndim 0, no nulls, the element type */
  assert_int_equal(be32(p), 0);
  assert_int_equal(be32(p + 4), 0);
  assert_int_equal(be32(p + 8), 2950);
  h_pg_array_free(&a);
  assert_int_equal(a.oid, H_PG_OID_UUID); /* the encoding stays */
}

static void test_binary_uuids(void **state) {
  (void)state;
  struct h_pg_array a = {.oid = H_PG_OID_UUID};
  h_pg_array_add(&a, "0193a1b2-C3d4-7e5f-8a9b-0c1d2e3f4a5b");
  h_pg_array_add(&a, NULL);
  int len = 0, format = 0;
  const char *p = h_pg_array_param(&a, &len, &format);
  assert_non_null(p);
  assert_int_equal(format, 1);
  assert_int_equal(len, 20 + 4 + 16 + 4);
  assert_int_equal(be32(p), 1);        /* one dimension */
  assert_int_equal(be32(p + 4), 1);    /* has a NULL */
  assert_int_equal(be32(p + 8), 2950); /* of uuid */
  assert_int_equal(be32(p + 12), 2);   /* two elements */
  assert_int_equal(be32(p + 16), 1);   /* from index 1 */
  assert_int_equal(be32(p + 20), 16);
  static const unsigned char want[16] = {0x01, 0x93, 0xa1, 0xb2, 0xc3, 0xd4, 0x7e, 0x5f,
                                         0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b};
  assert_memory_equal(p + 24, want, 16);
  assert_int_equal(be32(p + 40), -1); /* NULL */
  h_pg_array_free(&a);
}

static void test_binary_rejects_what_is_not_a_uuid(void **state) {
  (void)state;
  static const char *const bad[] = {"", "not-a-uuid", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5",
                                    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0",
                                    "0193a1b2c3d4-7e5f-8a9b-0c1d2e3f4a5b0",
                                    "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct h_pg_array a = {.oid = H_PG_OID_UUID};
    h_pg_array_add(&a, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    h_pg_array_add(&a, bad[i]);
    int len = 0, format = 0;
    assert_null(h_pg_array_param(&a, &len, &format));
    h_pg_array_free(&a);
    assert_false(a.invalid); /* freeing starts over */
  }
}

static void test_binary_text_jsonb_bool_int4(void **state) {
  (void)state;
  struct h_pg_array t = {.oid = H_PG_OID_TEXT}, j = {.oid = H_PG_OID_JSONB};
  struct h_pg_array b = {.oid = H_PG_OID_BOOL}, n = {.oid = H_PG_OID_INT4};
  h_pg_array_add(&t, "a \"quote\", {braces}");
  h_pg_array_add(&t, "");
  h_pg_array_add(&j, "{\"k\":1}");
  h_pg_array_add_bool(&b, 1);
  h_pg_array_add_bool(&b, 0);
  h_pg_array_add_long(&n, -42);
  int len = 0, format = 0;
  const char *p = h_pg_array_param(&t, &len, &format);
  assert_int_equal(len, 20 + 4 + 19 + 4);
  assert_int_equal(be32(p + 4), 0); /* no NULL */
  assert_int_equal(be32(p + 8), 25);
  assert_int_equal(be32(p + 20), 19);
  assert_memory_equal(p + 24, "a \"quote\", {braces}", 19); /* as it is: nothing escaped */
  assert_int_equal(be32(p + 43), 0);
  p = h_pg_array_param(&j, &len, &format);
  assert_int_equal(len, 20 + 4 + 8);
  assert_int_equal(be32(p + 8), 3802);
  assert_int_equal(be32(p + 20), 8);
  assert_int_equal(p[24], 1); /* jsonb's version byte */
  assert_memory_equal(p + 25, "{\"k\":1}", 7);
  p = h_pg_array_param(&b, &len, &format);
  assert_int_equal(len, 20 + 5 + 5);
  assert_int_equal(p[24], 1);
  assert_int_equal(p[29], 0);
  p = h_pg_array_param(&n, &len, &format);
  assert_int_equal(len, 20 + 8);
  assert_int_equal(be32(p + 20), 4);
  assert_int_equal(be32(p + 24), -42);
  /* an element of the wrong kind, or an int4 out of range, makes the array invalid */
  h_pg_array_add(&n, "7");
  assert_null(h_pg_array_param(&n, &len, &format));
  struct h_pg_array big = {.oid = H_PG_OID_INT4};
  h_pg_array_add_long(&big, 1L << 40);
  assert_null(h_pg_array_param(&big, &len, &format));
  h_pg_array_free(&t);
  h_pg_array_free(&j);
  h_pg_array_free(&b);
  h_pg_array_free(&n);
  h_pg_array_free(&big);
}

static int64_t be64(const char *p) {
  return (int64_t)((uint64_t)(uint32_t)be32(p) << 32 | (uint32_t)be32(p + 4));
}

static void test_binary_int8_and_float8(void **state) {
  (void)state;
  struct h_pg_array i = {.oid = H_PG_OID_INT8}, f = {.oid = H_PG_OID_FLOAT8};
  h_pg_array_add_long(&i, 9000000000LL);
  h_pg_array_add_long(&i, -2);
  h_pg_array_add(&i, NULL);
  h_pg_array_add_double(&f, 1700000000.25);
  h_pg_array_add(&f, NULL);
  h_pg_array_add_double(&f, -0.5);
  int len = 0, format = 0;
  const char *p = h_pg_array_param(&i, &len, &format);
  assert_int_equal(format, 1);
  assert_int_equal(len, 20 + 12 + 12 + 4);
  assert_int_equal(be32(p + 4), 1);  /* has a NULL */
  assert_int_equal(be32(p + 8), 20); /* of int8 */
  assert_int_equal(be32(p + 20), 8);
  assert_true(be64(p + 24) == 9000000000LL);
  assert_true(be64(p + 36) == -2);
  assert_int_equal(be32(p + 44), -1);
  p = h_pg_array_param(&f, &len, &format);
  assert_int_equal(len, 20 + 12 + 4 + 12);
  assert_int_equal(be32(p + 8), 701); /* of float8 */
  double d;
  int64_t bits = be64(p + 24);
  memcpy(&d, &bits, sizeof(d));
  assert_true(d == 1700000000.25);
  assert_int_equal(be32(p + 32), -1);
  bits = be64(p + 40);
  memcpy(&d, &bits, sizeof(d));
  assert_true(d == -0.5);
  /* a number of the other kind, or a string, makes either invalid */
  h_pg_array_add_double(&i, 1.0);
  assert_null(h_pg_array_param(&i, &len, &format));
  h_pg_array_add_long(&f, 1);
  assert_null(h_pg_array_param(&f, &len, &format));
  struct h_pg_array s = {.oid = H_PG_OID_FLOAT8};
  h_pg_array_add(&s, "1.5");
  assert_null(h_pg_array_param(&s, &len, &format));
  h_pg_array_free(&i);
  h_pg_array_free(&f);
  h_pg_array_free(&s);
}

static void test_binary_grows(void **state) {
  (void)state;
  /* reading the parameter does not end the array; its header follows the elements added */
  struct h_pg_array a = {.oid = H_PG_OID_TEXT};
  char big[5000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  int len = 0, format = 0;
  for (int i = 0; i < 40; i++) {
    h_pg_array_add(&a, big);
    h_pg_array_param(&a, &len, &format);
  }
  const char *p = h_pg_array_param(&a, &len, &format);
  assert_int_equal(len, 20 + 40 * (4 + 4999));
  assert_int_equal(be32(p + 12), 40);
  assert_int_equal(be32(p + 20 + 39 * (4 + 4999)), 4999);
  h_pg_array_free(&a);
}

static void test_params_of_several(void **state) {
  (void)state;
  struct h_pg_array a[3] = {{.oid = H_PG_OID_UUID}, {0}, {.oid = H_PG_OID_BOOL}};
  h_pg_array_add(&a[0], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  h_pg_array_add(&a[1], "x");
  h_pg_array_add_bool(&a[2], 1);
  const char *params[3];
  int lengths[3], formats[3];
  assert_true(h_pg_array_params(a, 3, params, lengths, formats));
  assert_int_equal(formats[0], 1);
  assert_int_equal(lengths[0], 20 + 4 + 16);
  assert_int_equal(formats[1], 0);
  assert_string_equal(params[1], "{\"x\"}");
  assert_int_equal(formats[2], 1);
  /* one invalid array: false, its parameter NULL, the others still set */
  h_pg_array_add(&a[0], "not-a-uuid");
  assert_false(h_pg_array_params(a, 3, params, lengths, formats));
  assert_null(params[0]);
  assert_non_null(params[1]);
  assert_non_null(params[2]);
  for (int i = 0; i < 3; i++) {
    h_pg_array_free(&a[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_elements_quoted_and_escaped),
    cmocka_unit_test(test_bools_and_numbers),
    cmocka_unit_test(test_text_then_more),
    cmocka_unit_test(test_binary_empty),
    cmocka_unit_test(test_binary_uuids),
    cmocka_unit_test(test_binary_rejects_what_is_not_a_uuid),
    cmocka_unit_test(test_binary_text_jsonb_bool_int4),
    cmocka_unit_test(test_binary_int8_and_float8), cmocka_unit_test(test_binary_grows),
    cmocka_unit_test(test_params_of_several),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

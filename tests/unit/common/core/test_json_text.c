/* Unit tests: JSON text written directly (core/json_text.c), against what jansson prints for
 * the same tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"

/* Checks that w's text is json_dumps(tree, JSON_COMPACT), byte for byte; frees both. */
static void assert_as_jansson(struct h_json_text *w, json_t *tree) {
  char *want = json_dumps(tree, JSON_COMPACT);
  char *got = h_jt_take(w);
  assert_non_null(want);
  assert_string_equal(got, want);
  free(want);
  free(got);
  json_decref(tree);
}

static void test_every_byte_escaped_as_jansson(void **state) {
  (void)state;
  /* each byte 0x01..0x7f alone, then inside text */
  for (int c = 1; c < 0x80; c++) {
    char s[8] = {'a', (char)c, 'b', (char)c, '\0'};
    struct h_json_text w;
    h_jt_init(&w, 1); /* grows from the smallest buffer */
    h_jt_open(&w, '{');
    h_jt_member(&w, s, s + 1);
    h_jt_close(&w, '}');
    assert_as_jansson(&w, json_pack("{ss}", s, s + 1));
  }
}

/* Long strings are scanned eight bytes at a time: each ASCII byte (0x01..0x7f) at each
 * position of a 27-byte string of text and UTF-8, with a second one three bytes on (often in
 * the same word), must still come out as jansson writes it. */
static void test_escapes_at_every_position(void **state) {
  (void)state;
  static const char base[] = "abcdefgh\xc3\xa9ijklmn/opqrstuvwxy";
  enum { LEN = sizeof(base) - 1, UTF8_AT = 8 };
  for (int c = 1; c < 0x80; c++) {
    for (int at = 0; at < LEN; at++) {
      int second = (at + 3) % LEN;
      if (at == UTF8_AT || at == UTF8_AT + 1 || second == UTF8_AT || second == UTF8_AT + 1) {
        continue; /* the text must stay valid UTF-8 */
      }
      char s[LEN + 1];
      memcpy(s, base, sizeof(s));
      s[at] = (char)c;
      s[second] = (char)c;
      struct h_json_text w;
      h_jt_init(&w, 1);
      h_jt_open(&w, '[');
      h_jt_string(&w, s);
      h_jt_close(&w, ']');
      json_t *tree = json_pack("[s]", s);
      assert_non_null(tree);
      assert_as_jansson(&w, tree);
    }
  }
}

static void test_utf8_and_slash_as_they_are(void **state) {
  (void)state;
  const char *s = "caf\xc3\xa9 / \xe2\x82\xac \xf0\x9f\x93\xa8 \xe2\x80\xa8 </script>";
  struct h_json_text w;
  h_jt_init(&w, 16);
  h_jt_open(&w, '[');
  h_jt_string(&w, s);
  h_jt_string(&w, "");
  h_jt_close(&w, ']');
  assert_as_jansson(&w, json_pack("[ss]", s, ""));
}

static void test_nesting_nulls_and_commas(void **state) {
  (void)state;
  struct h_json_text w;
  h_jt_init(&w, 64);
  h_jt_open(&w, '{');
  h_jt_member(&w, "id", "n1");
  h_jt_member(&w, "template", NULL);
  h_jt_key(&w, "empty");
  h_jt_open(&w, '[');
  h_jt_close(&w, ']');
  h_jt_key(&w, "deliveries");
  h_jt_open(&w, '[');
  for (int i = 0; i < 3; i++) {
    h_jt_open(&w, '{');
    h_jt_member(&w, "channel", i == 1 ? "sms" : "email:");
    h_jt_member(&w, "reason", NULL);
    h_jt_key(&w, "o");
    h_jt_open(&w, '{');
    h_jt_close(&w, '}');
    h_jt_close(&w, '}');
  }
  h_jt_string(&w, NULL);
  h_jt_close(&w, ']');
  h_jt_member(&w, "last", "{[:");
  h_jt_close(&w, '}');
  json_t *d = json_array();
  for (int i = 0; i < 3; i++) {
    json_array_append_new(d, json_pack("{sssnso}", "channel", i == 1 ? "sms" : "email:",
                                       "reason", "o", json_object()));
  }
  json_array_append_new(d, json_null());
  assert_as_jansson(&w, json_pack("{sssnsososs}", "id", "n1", "template", "empty",
                                  json_array(), "deliveries", d, "last", "{[:"));
}

static void test_long_text_grows(void **state) {
  (void)state;
  char *big = malloc(100001);
  memset(big, 'x', 100000);
  big[100000] = '\0';
  big[500] = '"';
  big[99999] = '\n';
  struct h_json_text w;
  h_jt_init(&w, 32);
  h_jt_open(&w, '{');
  h_jt_member(&w, "big", big);
  h_jt_close(&w, '}');
  assert_int_equal(w.len, strlen(w.s));
  assert_as_jansson(&w, json_pack("{ss}", "big", big));
  free(big);
}

static void test_free_and_take_leave_it_empty(void **state) {
  (void)state;
  struct h_json_text w;
  h_jt_init(&w, 8);
  h_jt_string(&w, "abc");
  h_jt_free(&w);
  assert_null(w.s);
  assert_int_equal(w.len, 0);
  h_jt_init(&w, 0);
  assert_string_equal(w.s, "");
  char *s = h_jt_take(&w);
  assert_string_equal(s, "");
  assert_null(w.s);
  free(s);
}

/* h_jt_value of tree, then of tree again after h_jt_reset, is json_dumps(tree, JSON_COMPACT |
 * JSON_ENCODE_ANY) both times, and h_jt_value_sorted is what json_dumps prints with
 * JSON_SORT_KEYS as well; frees tree. */
static void assert_value_as_jansson(json_t *tree) {
  char *want = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY);
  char *sorted = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  assert_non_null(want);
  assert_non_null(sorted);
  struct h_json_text w;
  h_jt_init(&w, 1);
  h_jt_value(&w, tree);
  assert_string_equal(w.s, want);
  assert_int_equal(w.len, strlen(want));
  h_jt_reset(&w);
  assert_string_equal(w.s, "");
  h_jt_value(&w, tree); /* no comma before the first value of a reset text */
  assert_string_equal(w.s, want);
  h_jt_reset(&w);
  h_jt_value_sorted(&w, tree);
  assert_string_equal(w.s, sorted);
  assert_int_equal(w.len, strlen(sorted));
  h_jt_free(&w);
  free(sorted);
  free(want);
  json_decref(tree);
}

static void test_value_scalars_as_jansson(void **state) {
  (void)state;
  assert_value_as_jansson(json_null());
  assert_value_as_jansson(json_true());
  assert_value_as_jansson(json_false());
  assert_value_as_jansson(json_integer(0));
  assert_value_as_jansson(json_integer(-9223372036854775807LL - 1));
  assert_value_as_jansson(json_integer(9223372036854775807LL));
  assert_value_as_jansson(json_real(0.1));
  assert_value_as_jansson(json_real(-2.5e300));
  assert_value_as_jansson(json_real(3.0));
  assert_value_as_jansson(json_string(""));
  assert_value_as_jansson(json_string("caf\xc3\xa9 \"q\" \\ \x01\x1f\x7f </tag>"));
  /* a string that holds a NUL is printed to its length, the NUL as \u0000 */
  assert_value_as_jansson(json_stringn("a\0b", 3));
}

static void test_value_trees_as_jansson(void **state) {
  (void)state;
  /* the shape of a send's rendered content, members in insertion order */
  assert_value_as_jansson(json_pack("{s{ssss}s{ssss}s{ss}s{ssss}}", "in_app", "title", "Bench",
                                    "body", "A \"load\" test\n", "push", "title", "Bench",
                                    "body", "x", "sms", "text", "x", "email", "subject", "S",
                                    "text", "t"));
  assert_value_as_jansson(json_object());
  assert_value_as_jansson(json_array());
  assert_value_as_jansson(
      json_pack("[[],{},[[i,i],{s:[n,b,f]}],s,i]", 1, 2, "k", 1, 2.5, "v", -7));
  json_t *o = json_object();
  json_object_setn_new(o, "k\0ey", 4, json_string("nul in the key"));
  json_object_set_new(o, "z", json_integer(1));
  json_object_set_new(o, "a", json_integer(2)); /* not sorted: the tree's order */
  assert_value_as_jansson(o);
}

/* The sorted print orders every object's members, at every depth, by bytes, a key before the
 * longer keys it begins; arrays keep their order. */
static void test_value_sorted_as_jansson(void **state) {
  (void)state;
  json_t *o = json_loads("{\"user_id\":\"u\",\"data\":{\"y\":[{\"b\":1,\"a\":2},3],\"x\":1},"
                         "\"category\":\"c\",\"ab\":0,\"a\":0,\"B\":0,\"\u00e9\":0,\"z\":0,"
                         "\"a b\":0,\"\":0}",
                         0, NULL);
  assert_non_null(o);
  json_t *copy = json_deep_copy(o);
  assert_value_as_jansson(o);
  struct h_json_text w;
  h_jt_init(&w, 8);
  h_jt_value_sorted(&w, copy);
  assert_string_equal(w.s, "{\"\":0,\"B\":0,\"a\":0,\"a b\":0,\"ab\":0,\"category\":\"c\","
                           "\"data\":{\"x\":1,\"y\":[{\"a\":2,\"b\":1},3]},\"user_id\":\"u\","
                           "\"z\":0,\"\xc3\xa9\":0}");
  h_jt_free(&w);
  json_decref(copy);
  /* more members than the sort's room on the stack (16), inserted in reverse */
  json_t *many = json_object();
  char key[8];
  for (int i = 40; i > 0; i--) {
    snprintf(key, sizeof(key), "k%02d", i);
    json_object_set_new(many, key, json_pack("{sisi}", "z", i, "a", -i));
  }
  assert_value_as_jansson(many);
  assert_value_as_jansson(json_pack("[{si}]", "only", 1));
}

static void test_value_inside_written_text(void **state) {
  (void)state;
  struct h_json_text w;
  h_jt_init(&w, 4);
  h_jt_open(&w, '[');
  h_jt_string(&w, "a");
  h_jt_value(&w, NULL);
  json_t *v = json_pack("{si}", "n", 1);
  h_jt_value(&w, v);
  h_jt_value(&w, v);
  h_jt_close(&w, ']');
  json_decref(v);
  char *s = h_jt_take(&w);
  assert_string_equal(s, "[\"a\",null,{\"n\":1},{\"n\":1}]");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_byte_escaped_as_jansson),
    cmocka_unit_test(test_escapes_at_every_position),
    cmocka_unit_test(test_utf8_and_slash_as_they_are),
    cmocka_unit_test(test_nesting_nulls_and_commas),
    cmocka_unit_test(test_long_text_grows),
    cmocka_unit_test(test_free_and_take_leave_it_empty),
    cmocka_unit_test(test_value_scalars_as_jansson),
    cmocka_unit_test(test_value_trees_as_jansson),
    cmocka_unit_test(test_value_sorted_as_jansson),
    cmocka_unit_test(test_value_inside_written_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit: the `push` request object and FCM's limits on `data` (channels/push_options.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "channels/push_options.h"
#include "core/fields.h"

/* Parses body (JSON text); returns how many field errors, *param the first one's param. */
static size_t errors(const char *body, bool may_push, char param[96]) {
  json_t *b = json_loads(body, 0, NULL);
  assert_non_null(b);
  struct h_field_errors fe = {0};
  const json_t *push = h_push_options_parse(b, json_object_get(b, "data"), may_push, &fe);
  size_t n = json_array_size(fe.list);
  param[0] = '\0';
  if (n > 0) {
    strcpy(param, json_string_value(json_object_get(json_array_get(fe.list, 0), "param")));
  } else if (json_object_get(b, "push") != NULL) {
    assert_ptr_equal(push, json_object_get(b, "push"));
  }
  h_field_errors_clear(&fe);
  json_decref(b);
  return n;
}

static void test_good_options(void **state) {
  (void)state;
  char p[96];
  assert_int_equal(errors("{\"push\":{\"silent\":true,\"priority\":\"high\",\"ttl\":0,"
                          "\"collapse_key\":\"a.b:c-d_e\",\"badge\":false,\"android\":{"
                          "\"priority\":\"HIGH\",\"ttl\":\"3.5s\",\"notification\":{}},"
                          "\"apns\":{\"headers\":{\"apns-topic\":\"x\"},\"payload\":{}}}}",
                          true, p), 0);
  assert_int_equal(errors("{}", true, p), 0);
}

static void test_bad_options(void **state) {
  (void)state;
  char p[96];
  assert_int_equal(errors("{\"push\":{\"ttl\":2419201}}", true, p), 1);
  assert_string_equal(p, "push.ttl");
  assert_int_equal(errors("{\"push\":{\"android\":{\"ttl\":\"s\"}}}", true, p), 1);
  assert_string_equal(p, "push.android.ttl");
  assert_int_equal(errors("{\"push\":{\"android\":{\"ttl\":\"1.s\"}}}", true, p), 1);
  assert_int_equal(errors("{\"push\":{\"apns\":{\"headers\":{\"apns-x\":1}}}}", true, p), 1);
  assert_string_equal(p, "push.apns.headers.apns-x");
  assert_int_equal(errors("{\"push\":{\"collapse_key\":\"a b\",\"x\":1}}", true, p), 2);
}

static void test_data_limits(void **state) {
  (void)state;
  char p[96], body[5000];
  snprintf(body, sizeof(body), "{\"data\":{\"k\":\"%0*d\"}}", 4095, 0); /* 1 + 4095 */
  assert_int_equal(errors(body, true, p), 0);
  snprintf(body, sizeof(body), "{\"data\":{\"k\":\"%0*d\"}}", 4096, 0);
  assert_int_equal(errors(body, true, p), 1);
  assert_string_equal(p, "data");
  assert_int_equal(errors(body, false, p), 0); /* no push: no FCM limit */
  assert_int_equal(errors("{\"data\":{\"gcm.x\":\"1\"}}", true, p), 1);
  assert_string_equal(p, "data.gcm.x");
  assert_int_equal(errors("{\"data\":{\"from\":\"1\"}}", false, p), 0);
}

static void test_string_map(void **state) {
  (void)state;
  json_t *in = json_loads("{\"s\":\"é\",\"n\":42,\"b\":true,\"o\":{\"a\":[1]},\"z\":null}", 0,
                          NULL);
  size_t bytes = 0;
  json_t *out = h_json_string_map(in, &bytes);
  assert_string_equal(json_string_value(json_object_get(out, "s")), "é");
  assert_string_equal(json_string_value(json_object_get(out, "n")), "42");
  assert_string_equal(json_string_value(json_object_get(out, "b")), "true");
  assert_string_equal(json_string_value(json_object_get(out, "o")), "{\"a\":[1]}");
  assert_string_equal(json_string_value(json_object_get(out, "z")), "null");
  assert_int_equal(bytes, 5 + 2 + 2 + 4 + 9 + 4); /* keys, then the values in bytes */
  json_decref(out);
  json_decref(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_options),
    cmocka_unit_test(test_bad_options),
    cmocka_unit_test(test_data_limits),
    cmocka_unit_test(test_string_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

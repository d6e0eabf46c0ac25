/* Unit tests: Idempotency-Key validity and request hashing (store/idempotency.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "store/idempotency.h"

static json_t *J(const char *text) { return json_loads(text, 0, NULL); }

static void test_request_hash(void **state) {
  (void)state;
  json_t *a = J("{\"user_id\":\"u\",\"data\":{\"x\":1,\"y\":[1,2]},\"category\":\"c\"}");
  json_t *b = J("{ \"category\" : \"c\", \"data\": {\"y\":[1,2], \"x\":1}, \"user_id\":\"u\" }");
  json_t *c = J("{\"user_id\":\"u\",\"data\":{\"x\":2,\"y\":[1,2]},\"category\":\"c\"}");
  json_t *d = J("{\"user_id\":\"u\",\"data\":{\"x\":1,\"y\":[2,1]},\"category\":\"c\"}");
  char ha[65], hb[65], hc[65], hd[65], hp[65], hm[65], hn[65];
  h_idem_request_hash("POST", "/api/v1/notifications", a, ha);
  h_idem_request_hash("POST", "/api/v1/notifications", b, hb);
  h_idem_request_hash("POST", "/api/v1/notifications", c, hc);
  h_idem_request_hash("POST", "/api/v1/notifications", d, hd);
  h_idem_request_hash("POST", "/api/v1/announcements", a, hp);
  h_idem_request_hash("PUT", "/api/v1/notifications", a, hm);
  h_idem_request_hash("POST", "/api/v1/notifications", NULL, hn);
  assert_int_equal(strlen(ha), 64);
  assert_string_equal(ha, hb);     /* key order and whitespace do not matter */
  assert_string_not_equal(ha, hc); /* values do */
  assert_string_not_equal(ha, hd); /* array order does */
  assert_string_not_equal(ha, hp); /* the path does */
  assert_string_not_equal(ha, hm); /* the method does */
  assert_string_not_equal(ha, hn);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(d);
}

static void test_key_valid(void **state) {
  (void)state;
  char long_key[300];
  memset(long_key, 'k', sizeof(long_key));
  long_key[255] = '\0';
  assert_true(h_idem_key_valid("order-123_ABC.x:y"));
  assert_true(h_idem_key_valid(long_key));
  long_key[255] = 'k';
  long_key[256] = '\0';
  assert_false(h_idem_key_valid(long_key));
  assert_false(h_idem_key_valid(""));
  assert_false(h_idem_key_valid("has space"));
  assert_false(h_idem_key_valid("tab\t"));
  assert_false(h_idem_key_valid("caf\xc3\xa9"));
  assert_false(h_idem_key_valid(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_request_hash),
    cmocka_unit_test(test_key_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

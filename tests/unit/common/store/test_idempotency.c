/* Unit tests: Idempotency-Key validity and request hashing (store/idempotency.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"

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

/* The hash of "METHOD path\n" and json_dumps's sorted compact text, as the hash was first
 * computed: keys stored by earlier releases must keep matching their requests. */
static void reference_hash(const char *method, const char *path, const json_t *body,
                           char out[65]) {
  char *canonical =
      body != NULL ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
  size_t n = strlen(method) + strlen(path) + 2 + (canonical != NULL ? strlen(canonical) : 0);
  char *text = malloc(n + 1);
  snprintf(text, n + 1, "%s %s\n%s", method, path, canonical != NULL ? canonical : "");
  h_sha256_hex(text, n, out);
  free(text);
  free(canonical);
}

static void test_request_hash_as_stored_keys(void **state) {
  (void)state;
  const char *bodies[] = {
    "{\"user_id\":\"b702def9-6b52-4a53-82f0-f4218803b729\",\"category\":\"bench\","
    "\"priority\":\"normal\",\"title\":\"Bench\",\"body\":\"A load-test notification\","
    "\"channels\":[\"in_app\",\"email\"]}",
    "{\"amount\":1999,\"currency\":\"usd\",\"metadata\":{\"z\":1.5,\"a\":null,\"m\":[true,false]},"
    "\"description\":\"caf\u00e9 \\\"q\\\" \\n \\u0001 </x>\"}",
    "{\"data\":{\"k\":{\"b\":[{\"y\":1,\"x\":2}],\"a\":{}}},\"ab\":1,\"a\":2,\"\":3}",
    "[3,{\"b\":1,\"a\":2}]",
    "\"just a string\"",
    "{}",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    json_t *b = json_loads(bodies[i], JSON_DECODE_ANY, NULL);
    assert_non_null(b);
    char got[65], want[65];
    h_idem_request_hash("POST", "/api/v1/payments", b, got);
    reference_hash("POST", "/api/v1/payments", b, want);
    assert_string_equal(got, want);
    json_decref(b);
  }
  char got[65], want[65];
  h_idem_request_hash("DELETE", "/api/v1/devices/x", NULL, got);
  reference_hash("DELETE", "/api/v1/devices/x", NULL, want);
  assert_string_equal(got, want);
  /* a known value: SHA-256 of "POST /p\n{\"a\":1,\"b\":2}" */
  json_t *b = json_pack("{sisi}", "b", 2, "a", 1);
  h_idem_request_hash("POST", "/p", b, got);
  assert_string_equal(got, "bcfd59b7d252b4e0669ef821509e7053d7f7376ec97e399a0ff134076260b5ae");
  json_decref(b);
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
    cmocka_unit_test(test_request_hash_as_stored_keys),
    cmocka_unit_test(test_key_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

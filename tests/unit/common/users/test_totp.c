/* Unit tests: TOTP against the RFC 6238 test vectors (appendix B), the 6-digit check
 * with its window and replay guard, base32 (RFC 4648) and the otpauth URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users/totp.h"

#define KEY20 "12345678901234567890"
#define KEY32 KEY20 "123456789012"
#define KEY64 KEY20 KEY20 KEY20 "1234"

static void test_rfc6238_vectors(void **state) {
  (void)state;
  static const struct {
    long long t;
    long sha1, sha256, sha512;
  } v[] = {
    {59, 94287082, 46119246, 90693936},
    {1111111109, 7081804, 68084774, 25091201},
    {1111111111, 14050471, 67062674, 99943326},
    {1234567890, 89005924, 91819424, 93441116},
    {2000000000, 69279037, 90698825, 38618901},
    {20000000000LL, 65353130, 77737706, 47863826},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    uint64_t step = h_totp_step(v[i].t);
    assert_int_equal(h_totp_code(H_TOTP_SHA1, (const unsigned char *)KEY20, 20, step, 8),
                     v[i].sha1);
    assert_int_equal(h_totp_code(H_TOTP_SHA256, (const unsigned char *)KEY32, 32, step, 8),
                     v[i].sha256);
    assert_int_equal(h_totp_code(H_TOTP_SHA512, (const unsigned char *)KEY64, 64, step, 8),
                     v[i].sha512);
  }
  assert_int_equal(h_totp_code(H_TOTP_SHA1, (const unsigned char *)KEY20, 20, 1, 5), -1);
}

/* The 6-digit code of the RFC key at time t. */
static void code_at(long long t, char out[8]) {
  snprintf(out, 8, "%06ld",
           h_totp_code(H_TOTP_SHA1, (const unsigned char *)KEY20, 20, h_totp_step(t), 6));
}

static void test_verify_window_and_replay(void **state) {
  (void)state;
  const unsigned char *key = (const unsigned char *)KEY20;
  char code[8];
  uint64_t now = h_totp_step(1111111111), step = 0;
  code_at(1111111111, code);
  assert_true(h_totp_verify(key, 20, code, now, 1, 0, &step));
  assert_int_equal(step, now);
  /* Used once: the same step no longer matches. */
  assert_false(h_totp_verify(key, 20, code, now, 1, step, &step));
  /* The previous and next step are accepted (clock drift), two steps away is not. */
  code_at(1111111111 - 30, code);
  assert_true(h_totp_verify(key, 20, code, now, 1, 0, &step));
  assert_int_equal(step, now - 1);
  code_at(1111111111 + 30, code);
  assert_true(h_totp_verify(key, 20, code, now, 1, 0, &step));
  code_at(1111111111 - 60, code);
  assert_false(h_totp_verify(key, 20, code, now, 1, 0, &step));
  /* Malformed codes. */
  assert_false(h_totp_verify(key, 20, "12345", now, 1, 0, &step));
  assert_false(h_totp_verify(key, 20, "1234567", now, 1, 0, &step));
  assert_false(h_totp_verify(key, 20, "12a456", now, 1, 0, &step));
  assert_false(h_totp_verify(key, 20, NULL, now, 1, 0, &step));
  /* Another key does not produce the code. */
  code_at(1111111111, code);
  assert_false(h_totp_verify((const unsigned char *)"another-key-entirely", 20, code, now, 1, 0,
                             &step));
}

static void test_base32(void **state) {
  (void)state;
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const enc[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB",
                                    "MZXW6YTBOI"};
  for (int i = 0; i < 7; i++) {
    char out[32];
    unsigned char back[32];
    h_base32_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
    assert_string_equal(out, enc[i]);
    int n = h_base32_decode(enc[i], back, sizeof(back));
    assert_int_equal(n, (int)strlen(plain[i]));
    assert_memory_equal(back, plain[i], (size_t)n);
  }
  unsigned char b[32];
  assert_int_equal(h_base32_decode("mzxw 6ytb-oi==", b, sizeof(b)), 6);
  assert_int_equal(h_base32_decode("MZXW1", b, sizeof(b)), -1); /* 1 is not base32 */
  assert_int_equal(h_base32_decode("MZXW6YTBOI", b, 3), -1);    /* too long for cap */
}

static void test_uri(void **state) {
  (void)state;
  char *uri = h_totp_uri("Herald", "ana+x@example.com", "JBSWY3DPEHPK3PXP");
  assert_string_equal(uri, "otpauth://totp/Herald:ana%2Bx%40example.com?secret=JBSWY3DPEHPK3PXP"
                           "&issuer=Herald&algorithm=SHA1&digits=6&period=30");
  free(uri);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rfc6238_vectors),
    cmocka_unit_test(test_verify_window_and_replay),
    cmocka_unit_test(test_base32),
    cmocka_unit_test(test_uri),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

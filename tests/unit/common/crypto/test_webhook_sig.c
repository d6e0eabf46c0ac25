/* Unit tests: Standard Webhooks secrets and signatures (common/crypto/webhook_sig.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/webhook_sig.h"

/* The published test vector of the Standard Webhooks reference libraries. */
static void test_reference_vector(void **state) {
  (void)state;
  char sig[64];
  const char *body = "{\"test\": 2432232314}";
  assert_int_equal(h_whsec_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                sig, sizeof(sig)),
                   H_OK);
  assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  /* any change of id, time or body changes it */
  char other[64];
  h_whsec_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
               1614265331, body, strlen(body), other, sizeof(other));
  assert_string_not_equal(sig, other);
}

static void test_generate(void **state) {
  (void)state;
  char *a = h_whsec_generate(), *b = h_whsec_generate();
  assert_int_equal(strncmp(a, "whsec_", 6), 0);
  assert_string_not_equal(a, b);
  unsigned char key[64];
  size_t n = 0;
  assert_int_equal(h_whsec_key(a, key, &n), H_OK);
  assert_int_equal(n, 32);
  free(a);
  free(b);
}

static void test_bad_secrets(void **state) {
  (void)state;
  unsigned char key[64];
  size_t n = 0;
  const char *bad[] = {NULL, "", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_abc",
                       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", "whsec_c2hvcnQ=", NULL};
  for (int i = 1; bad[i] != NULL; i++) {
    if (h_whsec_key(bad[i], key, &n) != H_ERR_INVALID) {
      fail_msg("accepted %s", bad[i]);
    }
  }
  assert_int_equal(h_whsec_key(NULL, key, &n), H_ERR_INVALID);
  char sig[64];
  assert_int_equal(h_whsec_sign("whsec_abc", "id", 1, "x", 1, sig, sizeof(sig)), H_ERR_INVALID);
}

static void test_base64(void **state) {
  (void)state;
  char out[16];
  h_base64_encode((const unsigned char *)"hello", 5, out);
  assert_string_equal(out, "aGVsbG8=");
  unsigned char *back = NULL;
  size_t n = 0;
  assert_true(h_base64_decode(out, &back, &n)); /* crypto.h's decoder reads it back */
  assert_int_equal(n, 5);
  assert_memory_equal(back, "hello", 5);
  free(back);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reference_vector), cmocka_unit_test(test_generate),
    cmocka_unit_test(test_bad_secrets), cmocka_unit_test(test_base64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

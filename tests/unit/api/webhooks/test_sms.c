/* Unit: the SMS status webhook's pure parts: urlencoded forms, the Twilio
 * signature (a vector computed by an independent implementation) and status
 * ranks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/alloc.h"
#include "webhooks/sms.h"

static void test_form(void **state) {
  (void)state;
  const char *body = "a=1&b=x+y&c=%C3%A9&d=&e&&f=%2B1";
  struct h_urlform f;
  assert_int_equal(h_urlform_parse(body, strlen(body), 10, &f), H_OK);
  assert_int_equal(f.n, 6);
  assert_string_equal(h_urlform_get(&f, "a"), "1");
  assert_string_equal(h_urlform_get(&f, "b"), "x y");
  assert_string_equal(h_urlform_get(&f, "c"), "\xc3\xa9");
  assert_string_equal(h_urlform_get(&f, "d"), "");
  assert_string_equal(h_urlform_get(&f, "e"), "");
  assert_string_equal(h_urlform_get(&f, "f"), "+1");
  assert_null(h_urlform_get(&f, "z"));
  h_urlform_free(&f);
  const char *bad[] = {"a=%zz", "a=%4", "a=%", "%g0=1", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_int_equal(h_urlform_parse(bad[i], strlen(bad[i]), 10, &f), H_ERR_INVALID);
    h_urlform_free(&f);
  }
  assert_int_equal(h_urlform_parse("a=1&b=2&c=3", 11, 2, &f), H_ERR_INVALID); /* too many */
  h_urlform_free(&f);
}

static void form_of(const char *body, struct h_urlform *f) {
  assert_int_equal(h_urlform_parse(body, strlen(body), 64, f), H_OK);
}

static void test_signature(void **state) {
  (void)state;
  const char *url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  struct h_urlform f, g;
  form_of("To=%2B18005551212&CallSid=CA1234567890ABCDE&Digits=1234&From=%2B12349013030"
          "&Caller=%2B12349013030", &f);
  char sig[32];
  h_twilio_signature("12345", url, &f, sig);
  assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="); /* Python's hmac agrees */
  assert_true(h_twilio_signature_ok("12345", url, &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  assert_false(h_twilio_signature_ok("12346", url, &f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  assert_false(h_twilio_signature_ok("12345", "https://mycompany.com/myapp.php?foo=1", &f,
                                     "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  assert_false(h_twilio_signature_ok("12345", url, &f, NULL));
  assert_false(h_twilio_signature_ok("12345", url, &f, ""));
  form_of("Digits=1235&To=%2B18005551212&CallSid=CA1234567890ABCDE&From=%2B12349013030"
          "&Caller=%2B12349013030", &g);
  assert_false(h_twilio_signature_ok("12345", url, &g, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  h_urlform_free(&f);
  h_urlform_free(&g);
}

static void test_rank(void **state) {
  (void)state;
  assert_int_equal(h_sms_status_rank(""), -1);
  assert_int_equal(h_sms_status_rank(NULL), -1);
  assert_int_equal(h_sms_status_rank("bogus"), -2);
  assert_true(h_sms_status_rank("queued") < h_sms_status_rank("sending"));
  assert_true(h_sms_status_rank("sending") < h_sms_status_rank("sent"));
  assert_true(h_sms_status_rank("sent") < h_sms_status_rank("delivered"));
  assert_int_equal(h_sms_status_rank("delivered"), h_sms_status_rank("undelivered"));
  assert_int_equal(h_sms_status_rank("failed"), h_sms_status_rank("delivered"));
}

int main(void) {
  h_alloc_install();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_form),
    cmocka_unit_test(test_signature),
    cmocka_unit_test(test_rank),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

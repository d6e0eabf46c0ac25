/* Unit: the pure parts of the providers' webhooks: Vonage's sig, Mailgun's HMAC and
 * SendGrid's ECDSA signature (vectors computed with Python's hmac and cryptography, an
 * independent implementation), the timestamp window, and inbound SMS keywords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "channels/feedback.h"
#include "core/alloc.h"
#include "webhooks/sms.h"

#define PUB                                                                                    \
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+1A4jylJjQqTrSXsTDQDe508w8ykeH62/tq+KzAD6sifd2XKnWKI5v9zT" \
  "1zQjzpZIc9UshuzmLUKwNJXf6B0cg=="
#define SIG                                                                                    \
  "MEQCIDke/SYvzCQWkZKadLhDeLQ7a7FO8mat64en4EToB++iAiBAgd8gOm2HZOxG+OpuYrK+dGA/7ZdhreDHhyu/DGcHpw=="

static void test_vonage_signature(void **state) {
  (void)state;
  /* '&' and '=' inside a value become '_'; sig itself is left out */
  const char *body = "msisdn=447700900000&to=Herald&messageId=0A00&status=delivered"
                     "&text=a%26b%3Dc&timestamp=1700000000&nonce=n1&sig=whatever";
  struct h_urlform f;
  assert_int_equal(h_urlform_parse(body, strlen(body), 64, &f), H_OK);
  char out[65];
  h_vonage_signature("vsecret", &f, out);
  assert_string_equal(out, "1EBCC9EC598F1B77B85D4806246B0D0DA06C4B18D298EAB6773BA9C0274CCAFA");
  h_vonage_signature("other", &f, out);
  assert_string_not_equal(out, "1EBCC9EC598F1B77B85D4806246B0D0DA06C4B18D298EAB6773BA9C0274CCAFA");
  h_urlform_free(&f);
}

static void test_mailgun_signature(void **state) {
  (void)state;
  const char *want = "a4af4af38e68fad2795f8e211808241e466c1b7099af10c5cffd318cd1bed22c";
  assert_true(h_mailgun_signature_ok("key-1", "1700000000", "tok123", want));
  assert_false(h_mailgun_signature_ok("key-2", "1700000000", "tok123", want));
  assert_false(h_mailgun_signature_ok("key-1", "1700000001", "tok123", want));
  assert_false(h_mailgun_signature_ok("key-1", "1700000000", "tok123", "A4AF"));
  assert_false(h_mailgun_signature_ok("key-1", NULL, "tok123", want));
}

static void test_sendgrid_signature(void **state) {
  (void)state;
  const char *body = "[{\"event\":\"bounce\"}]";
  assert_true(h_sendgrid_signature_ok(PUB, "1700000000", body, strlen(body), SIG));
  assert_false(h_sendgrid_signature_ok(PUB, "1700000001", body, strlen(body), SIG));
  assert_false(h_sendgrid_signature_ok(PUB, "1700000000", "[]", 2, SIG));
  assert_false(h_sendgrid_signature_ok(PUB, "1700000000", body, strlen(body), "bm90IGEgc2ln"));
  assert_false(h_sendgrid_signature_ok(PUB, "1700000000", body, strlen(body), "%%%"));
  assert_false(h_sendgrid_signature_ok("bm90IGEga2V5", "1700000000", body, strlen(body), SIG));
  assert_false(h_sendgrid_signature_ok(PUB, NULL, body, strlen(body), SIG));
}

static void test_timestamp_window(void **state) {
  (void)state;
  assert_true(h_webhook_timestamp_ok("1000", 1000, 300));
  assert_true(h_webhook_timestamp_ok("700", 1000, 300));
  assert_true(h_webhook_timestamp_ok("1300", 1000, 300));
  assert_false(h_webhook_timestamp_ok("699", 1000, 300));
  assert_false(h_webhook_timestamp_ok("1301", 1000, 300));
  const char *bad[] = {"", "abc", "1000x", "-5", "0", " 1000", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_false(h_webhook_timestamp_ok(bad[i], 1000, 300));
  }
  assert_false(h_webhook_timestamp_ok(NULL, 1000, 300));
}

static void test_keywords(void **state) {
  (void)state;
  static const struct {
    const char *text;
    enum h_sms_keyword kw;
  } cases[] = {
    {"STOP", H_SMS_KEYWORD_STOP},         {" stop ", H_SMS_KEYWORD_STOP},
    {"Stop.", H_SMS_KEYWORD_STOP},        {"unsubscribe", H_SMS_KEYWORD_STOP},
    {"STOPALL", H_SMS_KEYWORD_STOP},      {"start", H_SMS_KEYWORD_START},
    {"Yes!", H_SMS_KEYWORD_START},        {"UNSTOP", H_SMS_KEYWORD_START},
    {"help", H_SMS_KEYWORD_HELP},         {"INFO\n", H_SMS_KEYWORD_HELP},
    {"stop sending", H_SMS_KEYWORD_NONE}, {"stopp", H_SMS_KEYWORD_NONE},
    {"", H_SMS_KEYWORD_NONE},             {"42 stop", H_SMS_KEYWORD_NONE},
    {"st op", H_SMS_KEYWORD_NONE},        {"\xc3\xa9stop", H_SMS_KEYWORD_NONE},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if (h_sms_keyword_parse(cases[i].text) != cases[i].kw) {
      fail_msg("'%s': keyword %d, expected %d", cases[i].text, h_sms_keyword_parse(cases[i].text),
               cases[i].kw);
    }
  }
  assert_int_equal(h_sms_keyword_parse(NULL), H_SMS_KEYWORD_NONE);
}

int main(void) {
  h_alloc_install();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vonage_signature),
    cmocka_unit_test(test_mailgun_signature),
    cmocka_unit_test(test_sendgrid_signature),
    cmocka_unit_test(test_timestamp_window),
    cmocka_unit_test(test_keywords),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

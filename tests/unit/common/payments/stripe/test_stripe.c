/* Unit tests: Stripe form encoding, result mapping and webhook signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "payments/stripe/stripe.h"

static void test_form_encoding(void **state) {
  (void)state;
  struct h_stripe_form f = {0};
  assert_string_equal(h_stripe_form_text(&f), "");
  h_stripe_form_add(&f, "description", "Spring open & finals=2");
  h_stripe_form_add_ll(&f, "amount", 2500);
  json_t *md = json_pack("{s:s, s:{s:i}, s:[s,b], s:n}", "team", "Falcons é", "nested", "a", 1,
                         "list", "x", 1, "gone");
  h_stripe_form_add_json(&f, "metadata", md);
  json_decref(md);
  const char *text = h_stripe_form_text(&f);
  assert_non_null(strstr(text, "description=Spring%20open%20%26%20finals%3D2&amount=2500"));
  assert_non_null(strstr(text, "metadata%5Bteam%5D=Falcons%20%C3%A9"));
  assert_non_null(strstr(text, "metadata%5Bnested%5D%5Ba%5D=1"));
  assert_non_null(strstr(text, "metadata%5Blist%5D%5B0%5D=x"));
  assert_non_null(strstr(text, "metadata%5Blist%5D%5B1%5D=true"));
  assert_non_null(strstr(text, "metadata%5Bgone%5D="));
  h_stripe_form_free(&f);
  char *e = h_stripe_escape("a-b_c.d~e f/g");
  assert_string_equal(e, "a-b_c.d~e%20f%2Fg");
  free(e);
}

static void test_status_mapping(void **state) {
  (void)state;
  assert_int_equal(h_stripe_map_status(200, NULL, false), H_OK);
  assert_int_equal(h_stripe_map_status(402, "card_error", false), H_ERR_PAYMENT);
  assert_int_equal(h_stripe_map_status(400, "invalid_request_error", false), H_ERR_INVALID);
  assert_int_equal(h_stripe_map_status(400, "idempotency_error", false), H_ERR_CONFLICT);
  assert_int_equal(h_stripe_map_status(404, NULL, false), H_ERR_NOT_FOUND);
  assert_int_equal(h_stripe_map_status(409, NULL, false), H_ERR_CONFLICT);
  assert_int_equal(h_stripe_map_status(429, NULL, false), H_ERR_RATE_LIMITED);
  assert_int_equal(h_stripe_map_status(500, NULL, false), H_ERR_UNAVAILABLE);
  assert_int_equal(h_stripe_map_status(401, NULL, false), H_ERR_UNAVAILABLE);
  assert_int_equal(h_stripe_map_status(0, NULL, true), H_ERR_TIMEOUT);
  assert_int_equal(h_stripe_map_status(0, NULL, false), H_ERR_UNAVAILABLE);
  assert_true(h_stripe_retryable(0));
  assert_true(h_stripe_retryable(409));
  assert_true(h_stripe_retryable(429));
  assert_true(h_stripe_retryable(503));
  assert_false(h_stripe_retryable(400));
  assert_false(h_stripe_retryable(402));
  assert_false(h_stripe_retryable(404));
}

static const char payload[] = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}";
static const char secret[] = "whsec_unit";

static void test_signature_valid_and_rotated(void **state) {
  (void)state;
  char header[256], rotated[512];
  const char *why = "x";
  h_stripe_sign(secret, 1000, payload, strlen(payload), header, sizeof(header));
  assert_int_equal(strncmp(header, "t=1000,v1=", 10), 0);
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload), secret, 300, 1000,
                                             &why),
                   H_OK);
  assert_null(why);
  snprintf(rotated, sizeof(rotated), "t=1000,v1=%064d,%s,v0=zz", 7, header + 7);
  assert_int_equal(h_stripe_verify_signature(rotated, payload, strlen(payload), secret, 300,
                                             1200, &why),
                   H_OK);
  /* HMAC-SHA256("whsec_unit", "1000." + payload), computed independently (Python hmac). */
  assert_string_equal(header, "t=1000,v1=6931c07dca4d185b08f7275ca97c467dfe290c1b63e2e89506930cdbb7a29428");
}

static void test_signature_rejections(void **state) {
  (void)state;
  char header[256];
  const char *why = NULL;
  h_stripe_sign(secret, 1000, payload, strlen(payload), header, sizeof(header));
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload), secret, 300, 1301,
                                             &why),
                   H_ERR_INVALID); /* stale */
  assert_string_equal(why, "timestamp_outside_tolerance");
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload), secret, 300, 699,
                                             &why),
                   H_ERR_INVALID); /* from the future */
  assert_string_equal(why, "timestamp_outside_tolerance");
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload) - 1, secret, 300,
                                             1000, &why),
                   H_ERR_INVALID); /* tampered body */
  assert_string_equal(why, "no_matching_signature");
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload), "whsec_other",
                                             300, 1000, &why),
                   H_ERR_INVALID);
  static const char *const malformed[] = {"", "v1=abc", "t=,v1=abc", "t=12a,v1=abc",
                                          "t=1000", "t=1000,v0=abc"};
  for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
    assert_int_equal(h_stripe_verify_signature(malformed[i], payload, strlen(payload), secret,
                                               300, 1000, NULL),
                     H_ERR_INVALID);
  }
  assert_int_equal(h_stripe_verify_signature(NULL, payload, strlen(payload), secret, 300, 1000,
                                             &why),
                   H_ERR_INVALID);
  assert_string_equal(why, "missing_signature");
  assert_int_equal(h_stripe_verify_signature(header, payload, strlen(payload), "", 300, 1000,
                                             NULL),
                   H_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_form_encoding),
    cmocka_unit_test(test_status_mapping),
    cmocka_unit_test(test_signature_valid_and_rotated),
    cmocka_unit_test(test_signature_rejections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

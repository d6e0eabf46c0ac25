/* Unit tests: M-Pesa's pure parts - E.164 -> MSISDN, the Daraja timestamp (East Africa
 * Time), the ResultCode -> status table, and the reading of STK and reversal callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "payments/mpesa/mpesa.h"
#include "payments/mpesa/mpesa_provider.h"

static void test_msisdn(void **state) {
  (void)state;
  char out[13];
  assert_true(h_mpesa_msisdn("+254712345678", out));
  assert_string_equal(out, "254712345678");
  assert_true(h_mpesa_msisdn("+254110345678", out)); /* the 01xx ranges */
  static const char *const bad[] = {"254712345678", "+25471234567", "+2547123456789",
                                    "+255712345678", "+254612345678", "+2547123a5678",
                                    "0712345678", "", NULL};
  for (size_t i = 0; bad[i] != NULL; i++) {
    assert_false(h_mpesa_msisdn(bad[i], out));
    assert_string_equal(out, "");
  }
  assert_false(h_mpesa_msisdn(NULL, out));
}

static void test_timestamp(void **state) {
  (void)state;
  char ts[15];
  h_mpesa_timestamp(1767222000, ts); /* 2025-12-31T23:00:00Z is already 2026 in Nairobi */
  assert_string_equal(ts, "20260101020000");
}

static void test_result_table(void **state) {
  (void)state;
  static const struct {
    int code;
    const char *status, *reason;
  } rows[] = {
    {-1, "processing", ""}, {0, "succeeded", ""},   {1032, "canceled", "canceled_by_payer"},
    {1037, "failed", ""},   {1, "failed", ""},      {2001, "failed", ""},
    {17, "failed", ""},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char status[32], reason[40];
    h_mpesa_result_status(rows[i].code, status, reason);
    assert_string_equal(status, rows[i].status);
    assert_string_equal(reason, rows[i].reason);
  }
}

/* The M-Pesa ops (no credentials needed to read callbacks). */
static const struct h_provider_ops *ops(void) {
  static struct h_config cfg;
  static char empty[] = "";
  cfg.mpesa_api_base = cfg.mpesa_consumer_key = cfg.mpesa_consumer_secret = empty;
  cfg.mpesa_shortcode = cfg.mpesa_passkey = cfg.mpesa_callback_base_url = empty;
  cfg.mpesa_callback_secret = empty;
  struct h_provider p;
  assert_false(h_mpesa_provider_init(&p, &cfg, NULL));
  return p.ops;
}

static void test_read_stk_callback(void **state) {
  (void)state;
  json_t *body = json_loads(
      "{\"Body\":{\"stkCallback\":{\"MerchantRequestID\":\"1\",\"CheckoutRequestID\":"
      "\"ws_CO_1\",\"ResultCode\":0,\"ResultDesc\":\"ok\",\"CallbackMetadata\":{\"Item\":["
      "{\"Name\":\"Amount\",\"Value\":150.00},{\"Name\":\"MpesaReceiptNumber\",\"Value\":"
      "\"NLJ7RT61SV\"},{\"Name\":\"Balance\"}]}}}}",
      0, NULL);
  struct h_provider_payment pay = {0};
  assert_int_equal(ops()->callback_payment_read(body, &pay), H_OK);
  assert_string_equal(pay.id, "ws_CO_1");
  assert_string_equal(pay.status, "succeeded");
  assert_string_equal(pay.reference, "NLJ7RT61SV");
  assert_int_equal(pay.amount, 15000);
  h_provider_payment_clear(&pay);
  json_decref(body);
  body = json_loads("{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"ws_CO_2\","
                    "\"ResultCode\":1,\"ResultDesc\":\"The balance is insufficient\"}}}",
                    0, NULL);
  assert_int_equal(ops()->callback_payment_read(body, &pay), H_OK);
  assert_string_equal(pay.status, "failed");
  assert_string_equal(json_string_value(json_object_get(pay.last_payment_error, "code")),
                      "insufficient_funds");
  assert_int_equal(pay.amount, -1); /* no amount claimed */
  h_provider_payment_clear(&pay);
  json_decref(body);
  static const char *const bad[] = {
    "{}", "{\"Body\":{}}", "{\"Body\":{\"stkCallback\":{\"ResultCode\":0}}}",
    "{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"\",\"ResultCode\":0}}}",
    "{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"x\",\"ResultCode\":\"0\"}}}", NULL};
  for (size_t i = 0; bad[i] != NULL; i++) {
    body = json_loads(bad[i], 0, NULL);
    assert_int_equal(ops()->callback_payment_read(body, &pay), H_ERR_INVALID);
    json_decref(body);
  }
}

static void test_read_reversal_result(void **state) {
  (void)state;
  json_t *body = json_loads("{\"Result\":{\"ResultType\":0,\"ResultCode\":0,\"ResultDesc\":"
                            "\"ok\",\"ConversationID\":\"AG_1\"}}",
                            0, NULL);
  struct h_provider_payment pay = {0};
  assert_int_equal(ops()->callback_payment_read(body, &pay), H_ERR_NOT_FOUND);
  struct h_provider_refund refund;
  assert_int_equal(ops()->callback_refund_read(body, &refund), H_OK);
  assert_string_equal(refund.id, "AG_1");
  assert_string_equal(refund.status, "succeeded");
  json_decref(body);
  body = json_loads("{\"Result\":{\"ResultCode\":1,\"ResultDesc\":\"already reversed\","
                    "\"ConversationID\":\"AG_2\"}}",
                    0, NULL);
  assert_int_equal(ops()->callback_refund_read(body, &refund), H_OK);
  assert_string_equal(refund.status, "failed");
  assert_string_equal(refund.failure_reason, "already reversed");
  json_decref(body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_msisdn),
    cmocka_unit_test(test_timestamp),
    cmocka_unit_test(test_result_table),
    cmocka_unit_test(test_read_stk_callback),
    cmocka_unit_test(test_read_reversal_result),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

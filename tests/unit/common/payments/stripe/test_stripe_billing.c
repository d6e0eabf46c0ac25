/* Unit tests: reading Stripe dispute, subscription and invoice objects
 * (stripe_disputes.c, stripe_billing.c) - what is kept, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "payments/stripe/stripe_billing.h"
#include "payments/stripe/stripe_disputes.h"

static json_t *parse(const char *text) {
  json_t *j = json_loads(text, 0, NULL);
  assert_non_null(j);
  return j;
}

static void test_dispute_read(void **state) {
  (void)state;
  struct h_provider_dispute d;
  json_t *obj = parse("{\"id\":\"du_1\",\"object\":\"dispute\",\"amount\":4000,\"currency\":\"usd\","
                      "\"status\":\"needs_response\",\"reason\":\"fraudulent\",\"payment_intent\":"
                      "{\"id\":\"pi_9\"},\"evidence_details\":{\"due_by\":1800000000}}");
  assert_int_equal(h_stripe_dispute_ops.dispute_read(obj, &d), H_OK);
  assert_string_equal(d.id, "du_1");
  assert_string_equal(d.payment, "pi_9"); /* expanded or not */
  assert_string_equal(d.currency, "USD");
  assert_string_equal(d.reason, "fraudulent");
  assert_int_equal(d.amount, 4000);
  assert_int_equal(d.evidence_due_by, 1800000000);
  json_decref(obj);
  /* No reason: general; no due date: 0. */
  obj = parse("{\"id\":\"du_2\",\"object\":\"dispute\",\"amount\":1,\"currency\":\"eur\","
              "\"status\":\"won\",\"payment_intent\":\"pi_1\"}");
  assert_int_equal(h_stripe_dispute_ops.dispute_read(obj, &d), H_OK);
  assert_string_equal(d.reason, "general");
  assert_int_equal(d.evidence_due_by, 0);
  json_decref(obj);
  static const char *const bad[] = {
    "{\"id\":\"du_3\",\"object\":\"charge\",\"amount\":1,\"currency\":\"usd\",\"status\":\"won\","
    "\"payment_intent\":\"pi_1\"}",
    "{\"object\":\"dispute\",\"amount\":1,\"currency\":\"usd\",\"status\":\"won\"}",
    "{\"id\":\"du_4\",\"object\":\"dispute\",\"amount\":0,\"currency\":\"usd\",\"status\":\"won\","
    "\"payment_intent\":\"pi_1\"}",
    "{\"id\":\"du_5\",\"object\":\"dispute\",\"amount\":5,\"currency\":\"usd\",\"status\":\"won\"}",
    "{\"id\":\"du_6\",\"object\":\"dispute\",\"amount\":5,\"currency\":\"dollars\",\"status\":"
    "\"won\",\"payment_intent\":\"pi_1\"}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    obj = parse(bad[i]);
    assert_int_equal(h_stripe_dispute_ops.dispute_read(obj, &d), H_ERR_INVALID);
    json_decref(obj);
  }
}

static void test_subscription_read(void **state) {
  (void)state;
  struct h_provider_subscription s;
  json_t *obj = parse("{\"id\":\"sub_1\",\"object\":\"subscription\",\"customer\":\"cus_1\","
                      "\"status\":\"past_due\",\"cancel_at_period_end\":true,"
                      "\"current_period_start\":100,\"current_period_end\":200,\"trial_end\":null,"
                      "\"canceled_at\":150,\"metadata\":{\"herald_subscription_id\":\"abc\"},"
                      "\"items\":{\"data\":[{\"id\":\"si_1\",\"price\":{\"id\":\"price_1\"}}]}}");
  assert_int_equal(h_stripe_billing_ops.subscription_read(obj, &s), H_OK);
  assert_string_equal(s.status, "past_due");
  assert_string_equal(s.item, "si_1");
  assert_string_equal(s.price, "price_1");
  assert_string_equal(s.herald_subscription_id, "abc");
  assert_true(s.cancel_at_period_end);
  assert_int_equal(s.current_period_end, 200);
  assert_int_equal(s.trial_end, 0);
  assert_int_equal(s.canceled_at, 150);
  json_decref(obj);
  obj = parse("{\"id\":\"sub_1\",\"object\":\"subscription\"}"); /* no status */
  assert_int_equal(h_stripe_billing_ops.subscription_read(obj, &s), H_ERR_INVALID);
  json_decref(obj);
  obj = parse("{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"open\"}");
  assert_int_equal(h_stripe_billing_ops.subscription_read(obj, &s), H_ERR_INVALID);
  json_decref(obj);
}

static void test_invoice_read(void **state) {
  (void)state;
  struct h_provider_invoice inv;
  json_t *obj = parse("{\"id\":\"in_1\",\"object\":\"invoice\",\"subscription\":\"sub_1\","
                      "\"status\":\"open\",\"currency\":\"jpy\",\"amount_due\":500,"
                      "\"amount_paid\":0,\"attempt_count\":2}");
  assert_int_equal(h_stripe_billing_ops.invoice_read(obj, &inv), H_OK);
  assert_string_equal(inv.subscription, "sub_1");
  assert_string_equal(inv.currency, "JPY");
  assert_int_equal(inv.attempt_count, 2);
  assert_int_equal(inv.amount_due, 500);
  json_decref(obj);
  /* An invoice of no subscription (a one-off) is not Herald's. */
  obj = parse("{\"id\":\"in_2\",\"object\":\"invoice\",\"status\":\"paid\",\"currency\":\"usd\"}");
  assert_int_equal(h_stripe_billing_ops.invoice_read(obj, &inv), H_ERR_INVALID);
  json_decref(obj);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dispute_read),
    cmocka_unit_test(test_subscription_read),
    cmocka_unit_test(test_invoice_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

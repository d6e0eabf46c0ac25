/* Unit tests: the forward-only status rules of payments and refunds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "payments/payment_state.h"

static void test_payment_ranks(void **state) {
  (void)state;
  assert_true(h_payment_status_valid("requires_payment_method"));
  assert_false(h_payment_status_valid("paid"));
  assert_false(h_payment_status_valid(NULL));
  assert_true(h_payment_status_rank("processing") > h_payment_status_rank("requires_action"));
  assert_true(h_payment_status_final("succeeded"));
  assert_true(h_payment_status_final("canceled"));
  assert_true(h_payment_status_final("failed"));
  assert_false(h_payment_status_final("processing"));
  assert_false(h_payment_status_confirmable("failed"));
  assert_false(h_payment_status_cancelable("failed"));
  /* failed is final: nothing moves it, not even an authoritative success */
  assert_int_equal(h_payment_transition("processing", "failed", false), H_TRANSITION_APPLY);
  assert_int_equal(h_payment_transition("failed", "succeeded", true), H_TRANSITION_IGNORE);
  assert_int_equal(h_payment_transition("failed", "failed", false), H_TRANSITION_SAME);
  assert_true(h_payment_status_confirmable("requires_action"));
  assert_false(h_payment_status_confirmable("processing"));
  assert_true(h_payment_status_cancelable("requires_confirmation"));
  assert_false(h_payment_status_cancelable("succeeded"));
}

static void test_payment_transitions(void **state) {
  (void)state;
  /* Forward moves apply from any source. */
  assert_int_equal(h_payment_transition("processing", "succeeded", false), H_TRANSITION_APPLY);
  assert_int_equal(h_payment_transition("requires_payment_method", "processing", false),
                   H_TRANSITION_APPLY);
  /* A late processing never overwrites succeeded, whatever the source. */
  assert_int_equal(h_payment_transition("succeeded", "processing", false), H_TRANSITION_IGNORE);
  assert_int_equal(h_payment_transition("succeeded", "processing", true), H_TRANSITION_IGNORE);
  assert_int_equal(h_payment_transition("canceled", "succeeded", true), H_TRANSITION_IGNORE);
  /* Backward: an event asks for a fetch, an authoritative answer applies (decline). */
  assert_int_equal(h_payment_transition("processing", "requires_payment_method", false),
                   H_TRANSITION_REFETCH);
  assert_int_equal(h_payment_transition("processing", "requires_payment_method", true),
                   H_TRANSITION_APPLY);
  assert_int_equal(h_payment_transition("succeeded", "succeeded", false), H_TRANSITION_SAME);
  assert_int_equal(h_payment_transition("processing", "bogus", true), H_TRANSITION_IGNORE);
}

static void test_refund_transitions(void **state) {
  (void)state;
  assert_int_equal(h_refund_transition("pending", "succeeded", false), H_TRANSITION_APPLY);
  assert_int_equal(h_refund_transition("succeeded", "pending", false), H_TRANSITION_IGNORE);
  assert_int_equal(h_refund_transition("failed", "succeeded", false), H_TRANSITION_IGNORE);
  assert_int_equal(h_refund_transition("requires_action", "pending", false),
                   H_TRANSITION_REFETCH);
  assert_true(h_refund_status_counts("pending"));
  assert_true(h_refund_status_counts("succeeded"));
  assert_false(h_refund_status_counts("failed"));
  assert_false(h_refund_status_counts("canceled"));
}

static void test_dispute_transitions(void **state) {
  (void)state;
  /* Only a succeeded payment can be disputed; disputed is final for provider news. */
  assert_true(h_payment_status_disputable("succeeded"));
  assert_false(h_payment_status_disputable("processing"));
  assert_false(h_payment_status_disputable("disputed"));
  assert_false(h_payment_status_disputable(NULL));
  assert_true(h_payment_status_final("disputed"));
  assert_int_equal(h_payment_transition("disputed", "succeeded", true), H_TRANSITION_IGNORE);
  assert_int_equal(h_payment_transition("disputed", "succeeded", false), H_TRANSITION_IGNORE);
  assert_int_equal(h_payment_transition("disputed", "disputed", false), H_TRANSITION_SAME);
  /* Disputes move forward: needs_response < under_review < won | lost. */
  assert_int_equal(h_dispute_transition("needs_response", "under_review", false),
                   H_TRANSITION_APPLY);
  assert_int_equal(h_dispute_transition("under_review", "lost", false), H_TRANSITION_APPLY);
  assert_int_equal(h_dispute_transition("won", "lost", true), H_TRANSITION_IGNORE);
  assert_int_equal(h_dispute_transition("lost", "under_review", false), H_TRANSITION_IGNORE);
  assert_int_equal(h_dispute_transition("under_review", "needs_response", false),
                   H_TRANSITION_REFETCH);
  assert_int_equal(h_dispute_transition("under_review", "needs_response", true),
                   H_TRANSITION_APPLY);
  assert_int_equal(h_dispute_transition("needs_response", "charge_refunded", false),
                   H_TRANSITION_IGNORE);
  assert_true(h_dispute_status_valid("warning_closed"));
  assert_false(h_dispute_status_valid("open"));
  assert_true(h_dispute_status_final("won"));
  assert_false(h_dispute_status_final("under_review"));
  assert_true(h_dispute_status_open("needs_response"));
  assert_true(h_dispute_status_open("warning_needs_response"));
  assert_false(h_dispute_status_open("under_review"));
  assert_false(h_dispute_status_open("lost"));
}

static void test_enums(void **state) {
  (void)state;
  assert_true(h_payment_type_valid("tournament_fee"));
  assert_true(h_payment_type_valid("subscription"));
  assert_false(h_payment_type_valid("donation"));
  assert_true(h_refund_reason_valid("requested_by_customer"));
  assert_false(h_refund_reason_valid("abandoned"));
  assert_true(h_cancellation_reason_valid("abandoned"));
  assert_false(h_cancellation_reason_valid(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_payment_ranks),
    cmocka_unit_test(test_payment_transitions),
    cmocka_unit_test(test_refund_transitions),
    cmocka_unit_test(test_dispute_transitions),
    cmocka_unit_test(test_enums),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

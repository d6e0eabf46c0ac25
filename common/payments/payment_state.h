/* payment_state.h - the statuses of payments and refunds and the forward-only rules
 * that decide whether news from the provider may change them.
 *
 * Payment statuses, ranked in the order a payment moves: requires_payment_method (0) <
 * requires_confirmation (1) < requires_action (2) < processing (3) < succeeded | canceled |
 * failed (4, final) < disputed (5, final: only a dispute moves a succeeded payment there).
 * Refunds: pending (0) < requires_action (1) < succeeded | failed | canceled (2, final).
 * Disputes: [warning_]needs_response (0) < [warning_]under_review (1) < won | lost |
 * warning_closed (2, final). Every provider's payment outcomes map onto them in one table:
 *
 *   Herald status            Stripe PaymentIntent          M-Pesa STK push (ResultCode)
 *   requires_payment_method  requires_payment_method       (not used)
 *                            (a decline: retry another card)
 *   requires_confirmation    requires_confirmation         (not used)
 *   requires_action          requires_action (3-D Secure)  (not used)
 *   processing               processing                    push accepted, the payer has not
 *                                                          answered ("being processed")
 *   succeeded                succeeded                     0
 *   canceled                 canceled                      1032 cancelled by the payer
 *                                                          (cancellation_reason
 *                                                          "canceled_by_payer")
 *   failed                   (never: a decline is          1037 no answer from the phone,
 *                            retryable, see above)         1 insufficient funds, 2001 wrong
 *                                                          PIN, any other code (code and
 *                                                          ResultDesc in last_payment_error)
 *   disputed                 charge.dispute.created        (M-Pesa has no disputes)
 *
 *   Refunds: Stripe's refund statuses are Herald's; an M-Pesa reversal is pending until its
 *   result arrives, then succeeded (ResultCode 0) or failed (any other code).
 *
 * News comes either from an answer to our own call or a fresh fetch of the object
 * (authoritative: it is the provider's current state) or from a webhook event
 * (possibly late, duplicated or out of order). A final status never changes. A
 * forward move is applied from either source. A backward move is applied only
 * when authoritative (a decline sends processing back to requires_payment_method);
 * from an event it means "re-fetch the object and apply what it says". Pure. */
#ifndef HERALD_PAYMENT_STATE_H
#define HERALD_PAYMENT_STATE_H

#include <stdbool.h>

enum h_transition {
  H_TRANSITION_APPLY,   /* write the new status */
  H_TRANSITION_SAME,    /* already there */
  H_TRANSITION_IGNORE,  /* stale or impossible: keep the current status */
  H_TRANSITION_REFETCH, /* out of order: fetch the object and apply what it says */
};

bool h_payment_status_valid(const char *s);
bool h_payment_status_final(const char *s);
/* -1 for an unknown status. */
int h_payment_status_rank(const char *s);
/* Statuses in which a payment may be confirmed, or canceled. */
bool h_payment_status_confirmable(const char *s);
bool h_payment_status_cancelable(const char *s);

enum h_transition h_payment_transition(const char *current, const char *next,
                                       bool authoritative);
/* Whether a dispute may move a payment in this status to disputed. */
bool h_payment_status_disputable(const char *s);

bool h_dispute_status_valid(const char *s);
bool h_dispute_status_final(const char *s);
/* Whether evidence may be submitted in this status. */
bool h_dispute_status_open(const char *s);
enum h_transition h_dispute_transition(const char *current, const char *next,
                                       bool authoritative);

bool h_refund_status_valid(const char *s);
bool h_refund_status_final(const char *s);
/* Whether a refund in this status counts against the refundable remainder. */
bool h_refund_status_counts(const char *s);
enum h_transition h_refund_transition(const char *current, const char *next,
                                      bool authoritative);

/* Names of the enums of the API, for validation. */
bool h_payment_type_valid(const char *s);
bool h_refund_reason_valid(const char *s);
bool h_cancellation_reason_valid(const char *s);

#endif

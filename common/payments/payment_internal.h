/* payment_internal.h - helpers shared by the payment, refund and payment method
 * services (not used outside them). */
#ifndef HERALD_PAYMENT_INTERNAL_H
#define HERALD_PAYMENT_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "payments/payment_provider.h"
#include "payments/payment_repo.h"
#include "payments/payment_service.h"

/* Fills out with the error shape (status from r). */
void h_pay_reply_error(struct h_payment_reply *out, h_result r, const char *code,
                       const char *message, const char *param);
/* Fills out with status and body (stolen). */
void h_pay_reply(struct h_payment_reply *out, unsigned int status, json_t *body);
/* 503 provider_unavailable with Retry-After, for a provider that did not answer. */
void h_pay_reply_provider_down(struct h_payment_reply *out, h_result r, const char *what);
/* The 402 card_error body of a decline: code, message, decline_code (when the
 * provider gave one) and payment_id. New reference. */
json_t *h_pay_decline_body(const struct h_stripe_error *err, const char *payment_id);
/* 503 payments_not_configured. */
void h_pay_reply_disabled(struct h_payment_reply *out);

/* Hides what only the payer may see (client_secret) from other viewers; returns
 * payment (the same reference). */
json_t *h_pay_view(json_t *payment, const char *viewer_id);

/* Writes u to the locked payment row; when u changes the status, also an audit_log
 * row "payment.status_changed" {from, to, source: why}. */
h_result h_pay_apply(PGconn *conn, const struct h_actor *actor, const struct h_payment *row,
                     const struct h_payment_update *u, const char *why);

/* Resolves the payment method a request names: a saved method id (UUID) of the
 * user -> its provider id; a provider id (pm_...) as is; NULL -> the user's default
 * saved method when need, else "". On failure fills fail (400 / 422). */
h_result h_pay_resolve_method(PGconn *conn, const char *user_id, const char *input, bool need,
                              char out[H_PROVIDER_ID_LEN], struct h_payment_reply *fail);

/* The user's provider customer, created at the provider on first use (the
 * Idempotency-Key "herald-customer-<user id>" makes concurrent first uses agree). */
h_result h_pay_ensure_customer(struct h_app *app, const struct h_provider *prov,
                               const char *user_id, char out[H_PROVIDER_ID_LEN]);

/* Replies for a failed provider call that is not a decline: 503 for outages, the
 * provider's message as 400 for rejected parameters. */
void h_pay_reply_provider_error(struct h_payment_reply *out, h_result r,
                                const struct h_stripe_error *err, const char *what);

#endif

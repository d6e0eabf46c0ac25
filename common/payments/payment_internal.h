/* payment_internal.h - helpers shared by the payment, refund and payment method
 * services (not used outside them): answers as data, method resolution, customers. */
#ifndef HERALD_PAYMENT_INTERNAL_H
#define HERALD_PAYMENT_INTERNAL_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "payments/payment_provider.h"
#include "payments/payment_repo.h"
#include "payments/payment_service.h"
#include "store/idempotency.h"

/* What an operation answers: result H_OK with body, or a failure described by err. */
struct h_payment_answer {
  h_result result;
  json_t *body;        /* the object on success (owned until handed out), NULL for none */
  struct h_error *err; /* the caller's (borrowed), filled on failure */
};

/* Answers H_OK with body (stolen; a previous body is freed). */
void h_payment_answer_ok(struct h_payment_answer *a, json_t *body);
/* Answers failure r with code (NULL: the result's default), message and param (NULL). */
void h_payment_fail(struct h_payment_answer *a, h_result r, const char *code,
                    const char *message, const char *param);
/* Hands the answer out: *body (caller frees) on H_OK, else NULL; returns the result. */
h_result h_payment_answer_give(struct h_payment_answer *a, json_t **body);
/* Stores the answer (a success as outcome) under idem in conn's open transaction. */
h_result h_payment_answer_store(PGconn *conn, const struct h_idem *idem,
                                const struct h_payment_answer *a, enum h_outcome outcome);

/* Unavailable (Retry-After) for a provider that did not answer while doing what. */
void h_payment_fail_provider_down(struct h_payment_answer *a, h_result r, const char *what);
/* The card_error of a decline: code, message, decline_code (when the provider gave one)
 * and payment_id. */
void h_payment_fail_declined(struct h_payment_answer *a, const struct h_provider_error *err,
                             const char *payment_id);
/* Unavailable: payments_not_configured. */
void h_payment_fail_disabled(struct h_payment_answer *a);
/* A failed provider call that is not a decline: unavailable for outages, the
 * provider's message as invalid for rejected parameters. */
void h_payment_fail_provider_error(struct h_payment_answer *a, h_result r,
                                   const struct h_provider_error *err, const char *what);

/* Hides what only the payer may see (client_secret) from other viewers; returns
 * payment (the same reference). */
json_t *h_payment_view(json_t *payment, const char *viewer_id);

/* Writes u to the locked payment row; when u changes the status, also an audit_log
 * row "payment.status_changed" {from, to, source: why}. */
h_result h_payment_apply(PGconn *conn, const struct h_actor *actor, const struct h_payment *row,
                         const struct h_payment_update *u, const char *why);

/* Resolves the payment method a request names: a saved method id (UUID) of the
 * user -> its provider id; a provider id (pm_...) as is; NULL -> the user's default
 * saved method when need, else "". On failure answers into fail (invalid /
 * unprocessable) and returns its result. */
h_result h_payment_resolve_method(PGconn *conn, const char *user_id, const char *input,
                                  bool need, char out[H_PROVIDER_ID_LEN],
                                  struct h_payment_answer *fail);

/* The user's provider customer, created at the provider on first use (the
 * Idempotency-Key "herald-customer-<user id>" makes concurrent first uses agree). */
h_result h_payment_ensure_customer(struct h_app *app, const struct h_provider *prov,
                                   const char *user_id, char out[H_PROVIDER_ID_LEN]);

#endif

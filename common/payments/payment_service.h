/* payment_service.h - payments: create, read, list, confirm, cancel.
 *
 * Money moves only through provider calls whose Idempotency-Key is derived from the
 * payment's id ("herald-payment-<id>-create", "-confirm-<attempt>", "-cancel"), so
 * any retry of ours or of the client replays the provider's first answer instead
 * of charging twice. Before a provider call the payment is marked in doubt
 * (needs_reconciliation) in its own committed transaction; the answer is applied
 * in a second one. A call that times out or meets a provider outage leaves the
 * payment in doubt (and "processing" when money may have moved) for webhooks or
 * reconciliation to settle; the client may retry (create: with the same
 * Idempotency-Key; confirm: as is) and reaches the same provider outcome.
 *
 * Every operation returns an h_result: on H_OK the object (caller frees) and, for
 * changes, its outcome (created / ok); on a failure err (caller clears it with
 * h_error_clear) describes it for the caller to answer: code, message, param, extras
 * such as decline_code and payment_id, and retry_after when the provider did not
 * answer. Final outcomes of creates, failures included, are stored under the
 * Idempotency-Key through idem's callbacks, so a replay is exact. */
#ifndef HERALD_PAYMENT_SERVICE_H
#define HERALD_PAYMENT_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "store/idempotency.h"
#include "payments/payment_repo.h"

/* Who asks: the signed-in user and whether they are an admin. Borrowed strings. */
struct h_payment_viewer {
  const char *user_id;
  bool admin;
};

/* A validated create request; pointers borrowed. */
struct h_payment_create {
  const char *payment_type;
  const char *currency;       /* upper case */
  const char *description;    /* NULL when absent */
  const json_t *metadata;     /* object of strings, NULL when absent */
  const char *payment_method; /* a saved method id (UUID) or a provider id (pm_...), NULL;
                                 M-Pesa: the payer's number 2547XXXXXXXX */
  const char *provider;       /* "stripe", "mpesa"; NULL: HERALD_PAYMENT_DEFAULT_PROVIDER */
  long long amount;
  bool confirm;
};

/* True when provider (NULL: the default) is configured. */
bool h_payments_enabled(const struct h_app *app, const char *provider);

/* What clients may use (GET /payments/config): {"object":"payment_config",
 * "default_provider", "providers":[{"name","enabled","currencies":[...],
 * "publishable_key"?,"needs":"payment_method"|"phone"}]}. New reference. */
json_t *h_payment_config(const struct h_app *app);

/* The payment (created); H_ERR_PAYMENT when declined (the payment is kept, in
 * requires_payment_method, with last_payment_error; err->extra has decline_code and
 * payment_id); H_ERR_UNAVAILABLE when the provider did not answer (the key is released
 * so the client's retry resumes the same payment). Final outcomes are stored under idem
 * in the same transaction. */
h_result h_payment_create(struct h_app *app, const struct h_actor *actor, const char *user_id,
                          const struct h_payment_create *in, const struct h_idem *idem,
                          json_t **payment, enum h_outcome *outcome, struct h_error *err);

/* The payment with its refunds (others' payments: H_ERR_NOT_FOUND unless admin). */
h_result h_payment_find(struct h_app *app, const struct h_payment_viewer *v, const char *id,
                        json_t **payment, struct h_error *err);

/* Own payments, or everyone's for admins; data is a new reference. */
h_result h_payment_list(struct h_app *app, const struct h_payment_viewer *v,
                        struct h_payment_filter *filter, const struct h_page *page,
                        json_t **data, bool *has_more);

/* Confirms the payer's payment, with payment_method (saved id or pm_..., NULL: the
 * one already chosen, else the default saved method); the payment (ok) or, declined,
 * H_ERR_PAYMENT as for create. */
h_result h_payment_confirm(struct h_app *app, const struct h_actor *actor, const char *user_id,
                           const char *id, const char *payment_method, json_t **payment,
                           enum h_outcome *outcome, struct h_error *err);

/* Cancels a payment (its payer or an admin). reason may be NULL. The payment (ok). */
h_result h_payment_cancel(struct h_app *app, const struct h_actor *actor,
                          const struct h_payment_viewer *v, const char *id, const char *reason,
                          json_t **payment, enum h_outcome *outcome, struct h_error *err);

#endif

/* payment_service.h - payments: create, read, list, confirm, cancel.
 *
 * Money moves only through Stripe calls whose Idempotency-Key is derived from the
 * payment's id ("herald-payment-<id>-create", "-confirm-<attempt>", "-cancel"), so
 * any retry of ours or of the client replays the provider's first answer instead
 * of charging twice. Before a provider call the payment is marked in doubt
 * (needs_reconciliation) in its own committed transaction; the answer is applied
 * in a second one. A call that times out or meets a provider outage leaves the
 * payment in doubt (and "processing" when money may have moved) for webhooks or
 * reconciliation to settle; the client may retry (create: with the same
 * Idempotency-Key; confirm: as is) and reaches the same provider outcome.
 *
 * Every operation fills a struct h_payment_reply: the HTTP status and body to send
 * (an object, or the error shape of common/core/errors.h). */
#ifndef HERALD_PAYMENT_SERVICE_H
#define HERALD_PAYMENT_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "payments/payment_repo.h"

struct h_payment_reply {
  unsigned int status;
  json_t *body;     /* new reference for the caller */
  bool retry_after; /* the provider is unavailable: send Retry-After */
};

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
  const char *payment_method; /* a saved method id (UUID) or a provider id (pm_...), NULL */
  long long amount;
  bool confirm;
};

/* True when a Stripe secret key is configured. */
bool h_payments_enabled(const struct h_app *app);

/* 201 with the payment; 402 card_error when declined (the payment is kept, in
 * requires_payment_method, with last_payment_error); 503 when the provider did not
 * answer (the key is released so the client's retry resumes the same payment).
 * Final outcomes are stored under idem in the same transaction. */
void h_payment_create(struct h_app *app, const struct h_actor *actor, const char *user_id,
                      const struct h_payment_create *in, const struct h_idem *idem,
                      struct h_payment_reply *out);

/* The payment with its refunds (others' payments: 404 unless admin). */
void h_payment_get(struct h_app *app, const struct h_payment_viewer *v, const char *id,
                   struct h_payment_reply *out);

/* Own payments, or everyone's for admins; data is a new reference. */
h_result h_payment_list(struct h_app *app, const struct h_payment_viewer *v,
                        struct h_payment_filter *filter, const struct h_page *page,
                        json_t **data, bool *has_more);

/* Confirms the payer's payment, with payment_method (saved id or pm_..., NULL: the
 * one already chosen, else the default saved method). */
void h_payment_confirm(struct h_app *app, const struct h_actor *actor, const char *user_id,
                       const char *id, const char *payment_method, struct h_payment_reply *out);

/* Cancels a payment (its payer or an admin). reason may be NULL. */
void h_payment_cancel(struct h_app *app, const struct h_actor *actor,
                      const struct h_payment_viewer *v, const char *id, const char *reason,
                      struct h_payment_reply *out);

#endif

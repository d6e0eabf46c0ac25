/* refund_service.h - refunds of succeeded payments (admins), and reading them.
 *
 * A refund is written as pending, and counted against the payment's refundable
 * remainder, in a transaction that locks the payment row, so concurrent partial
 * refunds can never exceed the amount. The provider call carries the
 * Idempotency-Key "herald-refund-<refund id>"; its answer is applied in a second
 * transaction. A call with no known outcome leaves the refund pending (and in
 * doubt) for webhooks or reconciliation: the reply is then still 201, status
 * pending. */
#ifndef HERALD_REFUND_SERVICE_H
#define HERALD_REFUND_SERVICE_H

#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "payments/payment_service.h"
#include "core/fields.h"
#include "core/page.h"

/* amount <= 0 means "the whole refundable remainder". 201 with the refund; 422
 * when the payment cannot be refunded or amount exceeds the remainder. */
void h_refund_create(struct h_app *app, const struct h_actor *actor, const char *payment_id,
                     long long amount, const char *reason, const struct h_idem *idem,
                     struct h_payment_reply *out);

/* The refunds of a payment the viewer may see (404 otherwise). */
void h_refund_list(struct h_app *app, const struct h_payment_viewer *v, const char *payment_id,
                   const struct h_page *page, struct h_payment_reply *out);

#endif

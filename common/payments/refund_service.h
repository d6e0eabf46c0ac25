/* refund_service.h - refunds of succeeded payments (admins), and reading them.
 *
 * A refund is written as pending, and counted against the payment's refundable
 * remainder, in a transaction that locks the payment row, so concurrent partial
 * refunds can never exceed the amount. The provider call carries the
 * Idempotency-Key "herald-refund-<refund id>"; its answer is applied in a second
 * transaction. A call with no known outcome leaves the refund pending (and in
 * doubt) for webhooks or reconciliation: the answer is then still the refund
 * (created), status pending. Results and errors as in payment_service.h. */
#ifndef HERALD_REFUND_SERVICE_H
#define HERALD_REFUND_SERVICE_H

#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "payments/payment_service.h"
#include "core/fields.h"
#include "core/page.h"

/* amount <= 0 means "the whole refundable remainder". The refund (created), or
 * H_ERR_UNPROCESSABLE when the payment cannot be refunded or amount exceeds the
 * remainder. */
h_result h_refund_create(struct h_app *app, const struct h_actor *actor, const char *payment_id,
                         long long amount, const char *reason, const struct h_idem *idem,
                         json_t **refund, enum h_outcome *outcome, struct h_error *err);

/* The refunds of a payment the viewer may see (H_ERR_NOT_FOUND otherwise); *data is a
 * new reference. */
h_result h_refund_list(struct h_app *app, const struct h_payment_viewer *v,
                       const char *payment_id, const struct h_page *page, json_t **data,
                       bool *has_more, struct h_error *err);

#endif

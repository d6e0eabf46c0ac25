/* refund_request_service.h - refund requests: a payer asks for a refund of their own
 * succeeded payment with a reason (every admin is e-mailed); an admin approves it (the refund
 * runs through refund_service.h, full or partial) or rejects it with a reason (the payer is
 * e-mailed either way). Every step writes an audit_log row. While a refund runs the request
 * is 'approving', so two admins approving at once cannot refund twice.
 *
 * Each operation returns an h_result; on H_OK the request (caller frees), else err (caller
 * clears) describes the failure. */
#ifndef HERALD_REFUND_REQUEST_SERVICE_H
#define HERALD_REFUND_REQUEST_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/page.h"
#include "store/idempotency.h"

/* amount <= 0: the whole refundable remainder. H_ERR_NOT_FOUND for no such payment of
 * user_id; H_ERR_UNPROCESSABLE (payment_not_refundable) for one not succeeded or without
 * that much left; H_ERR_CONFLICT (refund_request_open) while another request is open. The
 * request, or a final failure (404, 422), is stored under idem's Idempotency-Key in the same
 * transaction (a replay is exact); other failures release the key. */
h_result h_refund_request_create(struct h_app *app, const struct h_actor *actor,
                                 const char *user_id, const char *payment_id, long long amount,
                                 const char *reason, const struct h_idem *idem,
                                 json_t **request, struct h_error *err);

/* Approves pending request id: refunds amount (<= 0: what the request asked) of its payment.
 * H_ERR_NOT_FOUND when no pending request has this id; a failed refund leaves the request
 * pending and answers the refund's error. */
h_result h_refund_request_approve(struct h_app *app, const struct h_actor *actor, const char *id,
                                  long long amount, json_t **request, struct h_error *err);

/* Rejects pending request id with reason. H_ERR_NOT_FOUND when none is pending. */
h_result h_refund_request_reject(struct h_app *app, const struct h_actor *actor, const char *id,
                                 const char *reason, json_t **request, struct h_error *err);

/* Requests (status NULL: any), newest first; data is a new reference. */
h_result h_refund_request_list(struct h_app *app, const char *status, const struct h_page *page,
                               json_t **data, bool *has_more);

#endif

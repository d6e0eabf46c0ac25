/* payment_webhook_service.h - applying verified provider events (Stripe-shaped).
 *
 * Each event is stored once by its id (payment_events); a redelivery of an event
 * already applied is acknowledged and changes nothing. payment_intent.* events move
 * payments and refund.* / charge.refund.updated events move refunds, through the
 * forward-only rules of payment_state.h: a late or out-of-order event never moves
 * a status back; when it disagrees with a non-final status, the object is fetched
 * from the provider and its current state applied. Notices (receipt, failure, refund)
 * are queued as e-mail deliveries after COMMIT, so the answer stays fast. */
#ifndef HERALD_PAYMENT_WEBHOOK_SERVICE_H
#define HERALD_PAYMENT_WEBHOOK_SERVICE_H

#include <jansson.h>

#include "app/app.h"
#include "core/errors.h"
#include "payments/payment_service.h"

/* event is the parsed body (borrowed), raw its text. *receipt (caller frees)
 * {"received":true,"duplicate":bool,"outcome":"..."}; H_ERR_INVALID (invalid_event) for a
 * body that is not an event; H_ERR_UNAVAILABLE when a needed fetch failed (the provider
 * delivers again later). err (caller clears) describes a failure. */
h_result h_payment_webhook_apply(struct h_app *app, const char *ip, const char *request_id,
                                 const json_t *event, const char *raw, size_t raw_len,
                                 json_t **receipt, struct h_error *err);

#endif

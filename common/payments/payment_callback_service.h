/* payment_callback_service.h - applying the unsigned callbacks of a provider (M-Pesa's STK
 * push results and reversal results) to payments and refunds.
 *
 * An unsigned callback is a claim, never the truth: the caller has checked that it came on
 * the secret per-deployment path (and from an allowed address); this service then fetches
 * the payment from the provider (the STK status query) and applies what the provider says,
 * through the forward-only rules of payment_state.h. A payment already final is answered
 * as a replay without asking the provider again, so a replayed callback changes nothing.
 * A callback whose claim the provider does not confirm moves nothing (logged as a security
 * event); the payment stays in sync's schedule. The provider's transaction reference (the
 * M-Pesa receipt number) is taken from a callback only when the fetch confirms success.
 * Reversal results cannot be fetched: they move refunds forward only, as events. */
#ifndef HERALD_PAYMENT_CALLBACK_SERVICE_H
#define HERALD_PAYMENT_CALLBACK_SERVICE_H

#include <jansson.h>

#include "app/app.h"
#include "core/errors.h"

/* body is the parsed callback (borrowed) of provider. *receipt (caller frees)
 * {"received":true,"outcome":"applied|unchanged|duplicate|unconfirmed","duplicate":bool}. H_ERR_INVALID (invalid_callback) for a body that is not a
 * callback or whose amount differs from the payment's; H_ERR_NOT_FOUND for a payment or
 * refund Herald does not know; H_ERR_UNAVAILABLE when the provider is not configured or
 * did not answer the fetch. err (caller clears) describes a failure. */
h_result h_payment_callback_apply(struct h_app *app, const char *provider, const char *ip,
                                  const char *request_id, const json_t *body, json_t **receipt,
                                  struct h_error *err);

#endif

/* dispute_service.h - disputes (chargebacks): what the provider's events say is
 * recorded (amount, reason, status, evidence due date) forward only
 * (payment_state.h), the disputed payment becomes 'disputed', and every active
 * admin gets an e-mail when a dispute opens and when it closes; admins list
 * disputes and submit evidence text, which goes to the provider. */
#ifndef HERALD_DISPUTE_SERVICE_H
#define HERALD_DISPUTE_SERVICE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/page.h"
#include "payments/payment_provider.h"

/* Applies a dispute object of a webhook event (borrowed) in conn's open transaction.
 * *outcome (static) receives applied, unchanged, stale, ignored (not a dispute or an
 * unknown status) or unknown_object (no payment of ours); notices (a JSON array)
 * receives the e-mail delivery ids to push after COMMIT (h_dispute_notices_push). */
h_result h_dispute_apply_event(PGconn *conn, const struct h_provider *prov,
                               const struct h_actor *actor, const json_t *object,
                               json_t *notices, const char **outcome);

/* Pushes the collected delivery ids (borrowed) after COMMIT. */
void h_dispute_notices_push(struct h_app *app, const json_t *notices, const char *request_id);

/* Disputes, newest first; status NULL for all. *data: new reference. */
h_result h_dispute_list(struct h_app *app, const struct h_page *page, const char *status,
                        json_t **data, bool *has_more);

/* Submits text (1-20000 characters, checked by the caller) as the evidence of
 * dispute id: the provider reviews it and the dispute moves to under_review. *out
 * (new reference) receives the dispute. Failures in err: H_ERR_NOT_FOUND,
 * H_ERR_CONFLICT (dispute_not_open), H_ERR_UNPROCESSABLE (the provider refused it),
 * H_ERR_UNAVAILABLE (not configured, or the provider did not answer). */
h_result h_dispute_submit_evidence(struct h_app *app, const struct h_actor *actor,
                                   const char *id, const char *text, json_t **out,
                                   struct h_error *err);

#endif

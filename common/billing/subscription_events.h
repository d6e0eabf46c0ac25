/* subscription_events.h - the provider's subscription and invoice events
 * (customer.subscription.created/updated/deleted, invoice.paid,
 * invoice.payment_failed): the subscription is fetched from the provider (its current
 * state, whatever the order the events arrive in) and written to the row; invoices are
 * recorded; each failed payment attempt is told to the user once; after
 * HERALD_BILLING_MAX_RETRIES failed attempts of an invoice the subscription is canceled
 * at the provider (past_due in between). Events are stored once by id
 * (payment_event_repo.h), so a replay changes nothing. */
#ifndef HERALD_SUBSCRIPTION_EVENTS_H
#define HERALD_SUBSCRIPTION_EVENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "payments/payment_provider.h"

/* Whether an event type is one of these. Pure. */
bool h_billing_event_type(const char *type);

/* One verified event (borrowed: event, its raw text); *receipt (new reference):
 * {"received","duplicate","outcome"}. H_ERR_UNAVAILABLE (err) when the provider or the
 * database could not be reached: the provider delivers it again. */
h_result h_billing_event_apply(struct h_app *app, const struct h_provider *prov,
                               const struct h_actor *actor, const json_t *event,
                               const char *raw, json_t **receipt, struct h_error *err);

/* Fetches subscription id (Herald's) from the provider and writes its state to the row
 * as an event would (never out of an ended one); *out (new reference): the subscription.
 * Failures in err: H_ERR_NOT_FOUND, H_ERR_CONFLICT (not_started: no provider
 * subscription yet), H_ERR_UNAVAILABLE. */
h_result h_subscription_sync(struct h_app *app, const struct h_actor *actor, const char *id,
                             json_t **out, struct h_error *err);

#endif

/* subscription_service.h - users' subscriptions: subscribe with a saved payment method
 * (or the default one), cancel at the period's end or at once, resume a cancellation
 * at the period's end, change plan. Every change is asked of the provider and the row
 * takes what the provider answered: a subscription's status is never the client's. */
#ifndef HERALD_SUBSCRIPTION_SERVICE_H
#define HERALD_SUBSCRIPTION_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/page.h"
#include "store/idempotency.h"

/* Subscribes the actor to plan_id paying with method (a saved method's id, a provider
 * method id, or NULL: the default saved method; not needed during a trial). *out: the
 * subscription (new reference). Failures in err: H_ERR_INVALID (unknown plan or
 * method), H_ERR_UNPROCESSABLE (archived plan, no method, provider refused),
 * H_ERR_CONFLICT (already subscribed), H_ERR_UNAVAILABLE. */
h_result h_subscription_create(struct h_app *app, const struct h_actor *actor,
                               const char *plan_id, const char *method,
                               const struct h_idem *idem, json_t **out, struct h_error *err);

enum h_subscription_action {
  H_SUB_CANCEL_AT_PERIOD_END, /* ends when the paid period does */
  H_SUB_CANCEL_NOW,
  H_SUB_RESUME,               /* undoes a cancellation at the period's end */
  H_SUB_CHANGE_PLAN,          /* to plan_id */
};

/* Runs action on the actor's subscription id (plan_id for H_SUB_CHANGE_PLAN, else NULL).
 * Failures: H_ERR_NOT_FOUND, H_ERR_CONFLICT (subscription_canceled, not_canceling,
 * same_plan, not_started), H_ERR_INVALID (unknown plan), H_ERR_UNPROCESSABLE
 * (archived plan, other currency, provider refused), H_ERR_UNAVAILABLE. */
h_result h_subscription_act(struct h_app *app, const struct h_actor *actor, const char *id,
                            enum h_subscription_action action, const char *plan_id,
                            json_t **out, struct h_error *err);

/* The actor's subscriptions, newest first; or one of them (H_ERR_NOT_FOUND). */
h_result h_subscription_list(struct h_app *app, const char *user_id, const struct h_page *page,
                             json_t **data, bool *has_more);
h_result h_subscription_read(struct h_app *app, const char *user_id, const char *id,
                            json_t **out);

#endif

/* payment_method_service.h - the payment methods a user saves on their provider
 * customer (created on first use): list, add (attach), delete (detach), make the
 * default. Users see and change only their own (others' ids: H_ERR_NOT_FOUND).
 * Results and errors as in payment_service.h. */
#ifndef HERALD_PAYMENT_METHOD_SERVICE_H
#define HERALD_PAYMENT_METHOD_SERVICE_H

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "payments/payment_service.h"
#include "core/fields.h"
#include "core/page.h"

/* The user's methods; *data is a new reference. */
h_result h_payment_method_list(struct h_app *app, const char *user_id,
                               const struct h_page *page, json_t **data, bool *has_more,
                               struct h_error *err);
/* provider_id: "pm_..." from the provider's client library. The saved method (created). */
h_result h_payment_method_add(struct h_app *app, const struct h_actor *actor,
                              const char *user_id, const char *provider_id,
                              const struct h_idem *idem, json_t **method,
                              enum h_outcome *outcome, struct h_error *err);
/* Detaches and forgets the method (nothing to hand out). */
h_result h_payment_method_remove(struct h_app *app, const struct h_actor *actor,
                                 const char *user_id, const char *id, struct h_error *err);
/* Makes the method the default; the method (ok). */
h_result h_payment_method_set_default(struct h_app *app, const struct h_actor *actor,
                                      const char *user_id, const char *id, json_t **method,
                                      enum h_outcome *outcome, struct h_error *err);

#endif

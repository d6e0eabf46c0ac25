/* payment_method_service.h - the payment methods a user saves on their provider
 * customer (created on first use): list, add (attach), delete (detach), make the
 * default. Users see and change only their own (others' ids: 404). */
#ifndef HERALD_PAYMENT_METHOD_SERVICE_H
#define HERALD_PAYMENT_METHOD_SERVICE_H

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "payments/payment_service.h"
#include "core/fields.h"
#include "core/page.h"

void h_payment_method_list(struct h_app *app, const char *user_id, const struct h_page *page,
                           struct h_payment_reply *out);
/* provider_id: "pm_..." from the provider's client library. 201 with the method. */
void h_payment_method_add(struct h_app *app, const struct h_actor *actor, const char *user_id,
                          const char *provider_id, const struct h_idem *idem,
                          struct h_payment_reply *out);
/* 204 (empty body) when deleted. */
void h_payment_method_delete(struct h_app *app, const struct h_actor *actor, const char *user_id,
                             const char *id, struct h_payment_reply *out);
void h_payment_method_set_default(struct h_app *app, const struct h_actor *actor,
                                  const char *user_id, const char *id,
                                  struct h_payment_reply *out);

#endif

/* payment_http.h - request parsing shared by the payment handlers (payments.c,
 * refunds.c, payment_methods.c). */
#ifndef HERALD_PAYMENT_HTTP_H
#define HERALD_PAYMENT_HTTP_H

#include <jansson.h>
#include <stdbool.h>

#include "http/http.h"
#include "payments/payment_service.h"

/* Sends a service reply (204 when body is NULL), with Retry-After when asked. */
void h_pay_send(struct h_req *rq, struct h_payment_reply *out);

/* The :id path parameter, or a 404 reply (NULL) when it is not a UUID. */
const char *h_pay_path_id(struct h_req *rq, const char *what);

/* Replies 400 unless the request has a JSON object body; an absent body reads as {}
 * when optional. Returns the body (borrowed) or NULL when it replied. */
const json_t *h_pay_body(struct h_req *rq, bool optional);

/* An integer member: false when absent; invalid_type recorded for other types. */
bool h_pay_field_integer(const json_t *body, const char *name, bool required, long long *out,
                         struct h_field_errors *fe);

/* True for a provider payment method id: pm_ and 1-200 of [A-Za-z0-9_]. Pure. */
bool h_pay_provider_pm_valid(const char *s);

/* The payment_method_id member: a UUID or a provider id (error recorded otherwise). */
const char *h_pay_field_method(const json_t *body, struct h_field_errors *fe);

/* The caller as a viewer. */
struct h_payment_viewer h_pay_viewer(const struct h_req *rq);

#endif

/* payment_http.h - request parsing, and the mapping of service results to replies,
 * shared by the payment handlers (payments.c, refunds.c, payment_methods.c, webhooks). */
#ifndef HERALD_PAYMENT_HTTP_H
#define HERALD_PAYMENT_HTTP_H

#include <jansson.h>
#include <stdbool.h>

#include "http/http.h"
#include "payments/payment_service.h"
#include "store/idempotency.h"

/* Sends what a payment service answered: on H_OK body (stolen; NULL: 204 No Content)
 * with the status of outcome, else the error err describes (with Retry-After when it
 * asks). err is cleared. */
void h_payment_send(struct h_req *rq, h_result r, enum h_outcome outcome, json_t *body,
                    struct h_error *err);

/* h_payment_send of a list page: data (stolen) and has_more on H_OK. */
void h_payment_send_list(struct h_req *rq, h_result r, json_t *data, bool has_more,
                         struct h_error *err);

/* The :id path parameter, or a 404 reply (NULL) when it is not a UUID. */
const char *h_payment_path_id(struct h_req *rq, const char *what);

/* Replies 400 unless the request has a JSON object body; an absent body reads as {}
 * when optional. Returns the body (borrowed) or NULL when it replied. */
const json_t *h_payment_body(struct h_req *rq, bool optional);

/* An integer member: false when absent; invalid_type recorded for other types. */
bool h_payment_field_integer(const json_t *body, const char *name, bool required, long long *out,
                         struct h_field_errors *fe);

/* True for a provider payment method id: pm_ and 1-200 of [A-Za-z0-9_]. Pure. */
bool h_payment_provider_method_valid(const char *s);

/* The payment_method_id member: a UUID or a provider id (error recorded otherwise). */
const char *h_payment_field_method(const json_t *body, struct h_field_errors *fe);

/* An optional RFC 3339 query parameter (borrowed), or NULL (an error recorded when invalid). */
const char *h_payment_param_time(const struct h_req *rq, const char *name,
                                 struct h_field_errors *fe);

/* The caller as a viewer. */
struct h_payment_viewer h_payment_viewer_of(const struct h_req *rq);

#endif

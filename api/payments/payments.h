/* payments.h - the handlers of the payments area (routes.c lists them). */
#ifndef HERALD_PAYMENTS_H
#define HERALD_PAYMENTS_H

#include "http/http.h"

/* api/payments/payments.c */
void h_payments_post(struct h_req *rq);
void h_payments_get(struct h_req *rq);
void h_payment_get(struct h_req *rq);
void h_payment_confirm_post(struct h_req *rq);
void h_payment_cancel_post(struct h_req *rq);
void h_payments_config_get(struct h_req *rq);
/* api/payments/receipts.c */
void h_payment_receipt_get(struct h_req *rq);
/* api/payments/refund_requests.c */
void h_refund_requests_post(struct h_req *rq);
void h_admin_refund_requests_get(struct h_req *rq);
void h_admin_refund_request_approve_post(struct h_req *rq);
void h_admin_refund_request_reject_post(struct h_req *rq);
/* api/payments/refunds.c */
void h_refunds_post(struct h_req *rq);
void h_refunds_get(struct h_req *rq);
/* api/payments/payment_methods.c */
void h_payment_methods_get(struct h_req *rq);
void h_payment_methods_post(struct h_req *rq);
void h_payment_method_delete(struct h_req *rq);
void h_payment_method_default_post(struct h_req *rq);
/* api/webhooks/mpesa.c: the STK push and reversal result callbacks */
void h_webhook_mpesa_post(struct h_req *rq);
/* api/webhooks/stripe.c */
void h_webhook_stripe_post(struct h_req *rq);
/* Records errors into fe for a body (borrowed) that is not an event: id and type (strings of
 * 1-255), data.object (an object), created (an integer) when present. */
void h_webhook_stripe_check_shape(const json_t *body, struct h_field_errors *fe);

#endif

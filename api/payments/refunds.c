/* refunds.c - /api/v1/payments/{id}/refunds. */
#include "store/idempotency.h"
#include "payments/payment_http.h"
#include "payments/payment_state.h"
#include "payments/refund_service.h"
#include "payments/payments.h"
#include "http/idempotency.h"
#include "http/request.h"

void h_refunds_post(struct h_req *rq) {
  static const char *const allowed[] = {"amount", "reason", NULL};
  const char *id = h_payment_path_id(rq, "payment");
  const json_t *body = id != NULL ? h_payment_body(rq, false) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  long long amount = 0;
  if (h_payment_field_integer(body, "amount", false, &amount, &fe) && amount <= 0) {
    h_field_error(&fe, "amount", "amount_not_positive",
                  "Must be a positive integer in minor units (omit it to refund the rest).");
  }
  const char *reason = h_field_string(body, "reason", true, 32, &fe);
  if (reason != NULL && !h_refund_reason_valid(reason)) {
    h_field_error(&fe, "reason", "invalid_reason",
                  "Must be duplicate, fraudulent or requested_by_customer.");
  }
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *refund = NULL;
  enum h_outcome outcome;
  h_result r = h_refund_create(rq->app, &actor, id, amount, reason, &idem, &refund, &outcome,
                               &err);
  h_payment_send(rq, r, outcome, refund, &err);
}

void h_refunds_get(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment");
  if (id == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_payment_viewer v = h_payment_viewer_of(rq);
  struct h_error err;
  json_t *data = NULL;
  bool more = false;
  h_result r = h_refund_list(rq->app, &v, id, &page, &data, &more, &err);
  h_payment_send_list(rq, r, data, more, &err);
}

/* payment_methods.c - /api/v1/payment-methods. */
#include "store/idempotency.h"
#include "payments/payment_http.h"
#include "payments/payment_method_service.h"
#include "payments/payments.h"
#include "http/idempotency.h"
#include "http/request.h"

void h_payment_methods_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_error err;
  json_t *data = NULL;
  bool more = false;
  h_result r = h_payment_method_list(rq->app, rq->user_id, &page, &data, &more, &err);
  h_payment_send_list(rq, r, data, more, &err);
}

void h_payment_methods_post(struct h_req *rq) {
  static const char *const allowed[] = {"provider_payment_method_id", NULL};
  const json_t *body = h_payment_body(rq, false);
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *pm = h_field_string(body, "provider_payment_method_id", true, 203, &fe);
  if (pm != NULL && !h_payment_provider_method_valid(pm)) {
    h_field_error(&fe, "provider_payment_method_id", "invalid_payment_method",
                  "Must be a provider payment method id (pm_...).");
  }
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *method = NULL;
  enum h_outcome outcome;
  h_result r = h_payment_method_add(rq->app, &actor, rq->user_id, pm, &idem, &method, &outcome,
                                    &err);
  h_payment_send(rq, r, outcome, method, &err);
}

void h_payment_method_delete(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment method");
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  h_result r = h_payment_method_remove(rq->app, &actor, rq->user_id, id, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, NULL, &err);
}

void h_payment_method_default_post(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment method");
  if (id == NULL || h_payment_body(rq, true) == NULL) {
    return;
  }
  if (json_object_size(rq->body) > 0) {
    h_reply_error(rq, H_ERR_INVALID, "unknown_field", "This request takes no body fields.",
                  NULL);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *method = NULL;
  enum h_outcome outcome;
  h_result r = h_payment_method_set_default(rq->app, &actor, rq->user_id, id, &method, &outcome,
                                            &err);
  h_payment_send(rq, r, outcome, method, &err);
}

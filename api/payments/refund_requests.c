/* refund_requests.c - POST /api/v1/payments/{id}/refund-requests (the payer), and the admin's
 * GET /api/v1/admin/refund-requests, POST .../{id}/approve and .../{id}/reject. */
#include <string.h>

#include "http/idempotency.h"
#include "http/request.h"
#include "payments/payment_http.h"
#include "payments/payments.h"
#include "payments/requests/refund_request_service.h"

/* An optional positive amount; false when absent (an error recorded when invalid). */
static long long field_amount(const json_t *body, struct h_field_errors *fe) {
  long long amount = 0;
  if (h_payment_field_integer(body, "amount", false, &amount, fe) && amount <= 0) {
    h_field_error(fe, "amount", "amount_not_positive",
                  "Must be a positive integer in minor units (omit it for the whole rest).");
  }
  return amount;
}

/* A required reason of 1-1000 characters. */
static const char *field_reason(const json_t *body, struct h_field_errors *fe) {
  const char *reason = h_field_string(body, "reason", true, 1000, fe);
  if (reason != NULL && reason[0] == '\0') {
    h_field_error(fe, "reason", "too_short", "Say why, in 1-1000 characters.");
    return NULL;
  }
  return reason;
}

void h_refund_requests_post(struct h_req *rq) {
  static const char *const allowed[] = {"amount", "reason", NULL};
  const char *id = h_payment_path_id(rq, "payment");
  const json_t *body = id != NULL ? h_payment_body(rq, false) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  long long amount = field_amount(body, &fe);
  const char *reason = field_reason(body, &fe);
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *request = NULL;
  h_result r = h_refund_request_create(rq->app, &actor, rq->user_id, id, amount, reason, &idem,
                                       &request, &err);
  h_payment_send(rq, r, H_OUTCOME_CREATED, request, &err);
}

void h_admin_refund_requests_get(struct h_req *rq) {
  static const char *const statuses[] = {"pending", "approving", "approved", "rejected", NULL};
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  const char *status = h_req_param(rq, "status");
  bool known = status == NULL;
  for (size_t i = 0; !known && statuses[i] != NULL; i++) {
    known = strcmp(statuses[i], status) == 0;
  }
  if (!known) {
    h_field_error(&fe, "status", "invalid_filter", "Not a known value.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *data = NULL;
  bool more = false;
  struct h_error err = {0};
  h_result r = h_refund_request_list(rq->app, status, &page, &data, &more);
  if (r != H_OK) {
    h_error_set(&err, r, NULL, "The requests could not be read.", NULL);
  }
  h_payment_send_list(rq, r, data, more, &err);
}

/* approve (reject false) or reject (true) of the request named by the path. */
static void decide(struct h_req *rq, bool reject) {
  static const char *const approve_fields[] = {"amount", NULL};
  static const char *const reject_fields[] = {"reason", NULL};
  const char *id = h_payment_path_id(rq, "refund request");
  const json_t *body = id != NULL ? h_payment_body(rq, !reject) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, reject ? reject_fields : approve_fields, &fe);
  long long amount = reject ? 0 : field_amount(body, &fe);
  const char *reason = reject ? field_reason(body, &fe) : NULL;
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *request = NULL;
  h_result r = reject ? h_refund_request_reject(rq->app, &actor, id, reason, &request, &err)
                      : h_refund_request_approve(rq->app, &actor, id, amount, &request, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, request, &err);
}

void h_admin_refund_request_approve_post(struct h_req *rq) { decide(rq, false); }
void h_admin_refund_request_reject_post(struct h_req *rq) { decide(rq, true); }

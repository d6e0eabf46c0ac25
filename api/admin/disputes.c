/* disputes.c - GET /api/v1/admin/disputes and POST /api/v1/admin/disputes/{id}/evidence. */
#include "admin/disputes.h"

#include "http/request.h"
#include "payments/dispute_service.h"
#include "payments/payment_http.h"
#include "payments/payment_state.h"

#define EVIDENCE_MAX 20000

void h_disputes_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  const char *status = h_req_param(rq, "status");
  if (status != NULL && !h_dispute_status_valid(status)) {
    h_field_error(&fe, "status", "invalid_status",
                  "Must be needs_response, under_review, won, lost, warning_needs_response, "
                  "warning_under_review or warning_closed.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_dispute_list(rq->app, &page, status, &data, &more);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The disputes could not be read.", NULL);
    return;
  }
  h_reply_json(rq, 200, h_list_body(data, more));
}

void h_dispute_evidence_post(struct h_req *rq) {
  static const char *const allowed[] = {"text", NULL};
  const char *id = h_payment_path_id(rq, "dispute");
  if (id == NULL) {
    return;
  }
  const json_t *body = h_payment_body(rq, false);
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *text = h_field_string(body, "text", true, EVIDENCE_MAX, &fe);
  if (text != NULL && text[0] == '\0') {
    h_field_error(&fe, "text", "empty", "Must not be empty.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *out = NULL;
  h_result r = h_dispute_submit_evidence(rq->app, &actor, id, text, &out, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, out, &err);
}

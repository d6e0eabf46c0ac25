/* receipts.c - GET /api/v1/payments/{id}/receipt: the receipt as JSON, or as an HTML page
 * when the Accept header asks for text/html. */
#include <stdlib.h>
#include <string.h>

#include <ulfius.h>

#include "payments/payment_http.h"
#include "payments/payments.h"
#include "payments/receipt_service.h"

/* True when Accept names text/html (a browser, or a client asking for the page). */
static bool wants_html(const struct h_req *rq) {
  const char *accept = h_req_header(rq, "Accept");
  return accept != NULL && strstr(accept, "text/html") != NULL;
}

void h_payment_receipt_get(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment");
  if (id == NULL) {
    return;
  }
  struct h_payment_viewer v = h_payment_viewer_of(rq);
  struct h_error err;
  json_t *receipt = NULL;
  h_result r = h_payment_receipt(rq->app, &v, id, &receipt, &err);
  if (r != H_OK || !wants_html(rq)) {
    h_payment_send(rq, r, H_OUTCOME_OK, receipt, &err);
    return;
  }
  char *page = h_payment_receipt_html(receipt);
  ulfius_set_binary_body_response(rq->response, 200, page, strlen(page));
  free(page);
  json_decref(receipt);
  h_reply_header(rq, "Content-Type", "text/html; charset=utf-8");
  h_reply_header(rq, "Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                 "frame-ancestors 'none'");
  rq->done = true;
}

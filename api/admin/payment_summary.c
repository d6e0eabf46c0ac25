/* payment_summary.c - GET /api/v1/admin/payments/summary?from=&to=: volume and count by
 * currency and status, refunds, disputes, fees and net over a period. */
#include "admin/reconciliations.h"
#include "payments/payment_http.h"
#include "payments/reports/summary_service.h"

void h_admin_payment_summary_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  const char *from = h_payment_param_time(rq, "from", &fe);
  const char *to = h_payment_param_time(rq, "to", &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_error err;
  json_t *summary = NULL;
  h_result r = h_payment_summary(rq->app, from, to, &summary, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, summary, &err);
}

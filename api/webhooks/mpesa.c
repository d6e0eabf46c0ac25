/* mpesa.c - POST /api/v1/webhooks/mpesa/{secret}: Daraja's STK push and reversal results.
 * They are not signed, so the path's secret segment (HERALD_MPESA_CALLBACK_SECRET,
 * compared in constant time) and the optional address allow-list are what let one in; the
 * callback service then confirms each with the provider before anything moves. A wrong
 * secret is a 404 like any unknown path, logged as a security event. */
#include <string.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "http/request.h"
#include "net/forwarded.h"
#include "payments/payment_callback_service.h"
#include "payments/payment_http.h"
#include "payments/payments.h"

/* Replies (404 or 403) unless the secret and the caller's address let the callback in. */
static bool admitted(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  const char *want = cfg->mpesa_callback_secret, *got = h_req_param(rq, "secret");
  if (want == NULL || want[0] == '\0' || got == NULL ||
      !h_consttime_eq(want, strlen(want), got, strlen(got))) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "mpesa callback refused from %s: wrong or unconfigured path secret", rq->ip);
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "No such resource.", NULL);
    return false;
  }
  const char *allow = cfg->mpesa_callback_allow_ips;
  if (allow != NULL && allow[0] != '\0' && !h_forwarded_trusted(allow, rq->ip)) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "mpesa callback refused from %s: not in HERALD_MPESA_CALLBACK_ALLOW_IPS", rq->ip);
    h_reply_error(rq, H_ERR_FORBIDDEN, "address_not_allowed",
                  "Callbacks are not accepted from this address.", NULL);
    return false;
  }
  return true;
}

void h_webhook_mpesa_post(struct h_req *rq) {
  if (!admitted(rq) || h_payment_body(rq, false) == NULL) {
    return;
  }
  struct h_error err;
  json_t *receipt = NULL;
  h_result r = h_payment_callback_apply(rq->app, "mpesa", rq->ip, rq->request_id, rq->body,
                                        &receipt, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, receipt, &err);
}

/* reconciliations.c - /api/v1/admin/reconciliations and /api/v1/admin/payments/{id}/sync. */
#include "admin/reconciliations.h"

#include <string.h>
#include <time.h>

#include "payments/payment_http.h"
#include "reconcile/reconcile.h"
#include "reconcile/reconcile_service.h"
#include "http/request.h"

#define MAX_PERIOD_S (31L * 86400)

/* A since/until member: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; false when absent. */
static bool field_time(const json_t *body, const char *name, time_t *out,
                       struct h_field_errors *fe) {
  const json_t *v = json_object_get(body, name);
  if (v == NULL) {
    return false;
  }
  if (!json_is_string(v)) {
    h_field_error(fe, name, "invalid_type", "Must be a string.");
    return false;
  }
  if (!h_reconcile_parse_time(json_string_value(v), out)) {
    h_field_error(fe, name, "invalid_timestamp",
                  "Must be a UTC date (2026-01-31) or time (2026-01-31T00:00:00Z).");
    return false;
  }
  return true;
}

/* The period of a request: default yesterday (UTC); since alone: that one day. */
static void period_of(const json_t *body, time_t *since, time_t *until,
                      struct h_field_errors *fe) {
  time_t now = time(NULL);
  *until = now - now % 86400;
  *since = *until - 86400;
  bool has_since = field_time(body, "since", since, fe);
  bool has_until = field_time(body, "until", until, fe);
  if (has_since && !has_until && json_object_get(body, "until") == NULL) {
    *until = *since + 86400;
  }
  if (h_field_errors_count(fe) > 0) {
    return;
  }
  if (*until <= *since) {
    h_field_error(fe, "until", "until_before_since", "Must be after since.");
  } else if (*until - *since > MAX_PERIOD_S) {
    h_field_error(fe, "until", "period_too_long", "The period may span at most 31 days.");
  }
}

void h_reconciliations_post(struct h_req *rq) {
  static const char *const allowed[] = {"since", "until", NULL};
  const json_t *body = h_payment_body(rq, true);
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  time_t since, until;
  period_of(body, &since, &until, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *run = NULL;
  h_result r = h_reconcile_request_run(rq->app, &actor, since, until, &run);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, NULL, NULL);
    return;
  }
  h_reply_json(rq, 202, run);
}

void h_reconciliations_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_reconcile_list(rq->app, &page, &data, &more);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, NULL, NULL);
    return;
  }
  h_reply_json(rq, 200, h_list_body(data, more));
}

void h_reconciliation_get(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "reconciliation run");
  if (id == NULL) {
    return;
  }
  const char *kind = h_req_param(rq, "kind");
  bool known = kind == NULL;
  for (int k = 0; k < 5 && !known; k++) {
    known = strcmp(kind, h_ledger_kind_name(k)) == 0;
  }
  if (!known) {
    struct h_field_errors fe = {0};
    h_field_error(&fe, "kind", "invalid_kind",
                  "Must be missing_locally, missing_at_provider, amount_mismatch, "
                  "status_mismatch or currency_mismatch.");
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *run = NULL;
  h_result r = h_reconcile_get(rq->app, id, kind, &run);
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such reconciliation run.", NULL);
  } else if (r != H_OK) {
    h_reply_error(rq, r, NULL, NULL, NULL);
  } else {
    h_reply_json(rq, 200, run);
  }
}

void h_payment_sync_post(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment");
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *job = NULL;
  h_result r = h_reconcile_queue_payment_sync(rq->app, &actor, id, &job);
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such payment.", NULL);
  } else if (r != H_OK) {
    h_reply_error(rq, r, NULL, NULL, NULL);
  } else {
    h_reply_json(rq, 202, job);
  }
}

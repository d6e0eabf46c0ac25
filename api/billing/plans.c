/* plans.c - /api/v1/admin/plans (create, list, change) and /api/v1/plans (the active ones). */
#include <string.h>

#include "billing/billing.h"
#include "billing/plan_service.h"
#include "core/money.h"
#include "http/idempotency.h"
#include "http/request.h"
#include "payments/payment_http.h"

#define NAME_MAX_LEN 120
#define TRIAL_MAX_DAYS 730

/* trial_days: 0-730; false when absent. */
static bool field_trial(const json_t *body, int *out, struct h_field_errors *fe) {
  long long n = 0;
  if (!h_payment_field_integer(body, "trial_days", false, &n, fe)) {
    return false;
  }
  if (n < 0 || n > TRIAL_MAX_DAYS) {
    h_field_error(fe, "trial_days", "out_of_range", "Must be 0 to %d days.", TRIAL_MAX_DAYS);
    return false;
  }
  *out = (int)n;
  return true;
}

/* name: 1-120 characters; NULL when absent. */
static const char *field_name(const json_t *body, bool required, struct h_field_errors *fe) {
  const char *name = h_field_string(body, "name", required, NAME_MAX_LEN, fe);
  if (name != NULL && strspn(name, " \t") == strlen(name)) {
    h_field_error(fe, "name", "empty", "Must not be blank.");
    return NULL;
  }
  return name;
}

/* amount, currency, interval and interval_count of a new plan into in. */
static void field_price(const struct h_req *rq, const json_t *body, struct h_plan_input *in,
                        char currency[4], struct h_field_errors *fe) {
  const char *cur = h_field_string(body, "currency", true, 3, fe);
  const struct h_currency *c = cur != NULL ? h_currency_find(cur) : NULL;
  if (cur != NULL && (c == NULL || !h_currency_enabled(rq->app->cfg->payment_currencies, cur))) {
    h_field_error(fe, "currency", "invalid_currency", "Must be an accepted ISO 4217 code.");
    c = NULL;
  } else if (c != NULL) {
    memcpy(currency, c->code, 4);
    in->currency = currency;
  }
  if (h_payment_field_integer(body, "amount", true, &in->amount, fe) && c != NULL &&
      h_money_check_amount(c, in->amount, rq->app->cfg->payment_max_amount) != NULL) {
    h_field_error(fe, "amount", "invalid_amount",
                  "Must be a positive integer in minor units, at least the currency's minimum "
                  "and at most %d.", rq->app->cfg->payment_max_amount);
  }
  static const char *const intervals[] = {"day", "week", "month", "year", NULL};
  in->interval = h_field_string(body, "interval", true, 16, fe);
  bool known = false;
  for (size_t i = 0; in->interval != NULL && intervals[i] != NULL; i++) {
    known = known || strcmp(intervals[i], in->interval) == 0;
  }
  if (in->interval != NULL && !known) {
    h_field_error(fe, "interval", "invalid_interval", "Must be day, week, month or year.");
  }
  long long count = 1;
  if (h_payment_field_integer(body, "interval_count", false, &count, fe) &&
      (count < 1 || count > 12)) {
    h_field_error(fe, "interval_count", "out_of_range", "Must be 1 to 12.");
  }
  in->interval_count = (int)count;
}

void h_admin_plans_post(struct h_req *rq) {
  static const char *const allowed[] = {"name", "amount", "currency", "interval",
                                        "interval_count", "trial_days", NULL};
  const json_t *body = h_payment_body(rq, false);
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_plan_input in = {0};
  char currency[4] = "";
  h_reject_unknown(body, allowed, &fe);
  in.name = field_name(body, true, &fe);
  field_price(rq, body, &in, currency, &fe);
  field_trial(body, &in.trial_days, &fe);
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *plan = NULL;
  h_result r = h_plan_create(rq->app, &actor, &in, &idem, &plan, &err);
  h_payment_send(rq, r, H_OUTCOME_CREATED, plan, &err);
}

/* The list of plans; active_only for users. */
static void plans_list(struct h_req *rq, bool active_only) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_plan_list(rq->app, &page, active_only, &data, &more);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The plans could not be read.", NULL);
    return;
  }
  h_reply_json(rq, 200, h_list_body(data, more));
}

void h_admin_plans_get(struct h_req *rq) { plans_list(rq, false); }
void h_plans_get(struct h_req *rq) { plans_list(rq, true); }

void h_admin_plan_patch(struct h_req *rq) {
  static const char *const allowed[] = {"name", "trial_days", "active", NULL};
  const char *id = h_payment_path_id(rq, "plan");
  const json_t *body = id != NULL ? h_payment_body(rq, false) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *name = field_name(body, false, &fe);
  int trial = -1;
  field_trial(body, &trial, &fe);
  bool active_value = true;
  int active = h_field_bool(body, "active", false, &active_value, &fe) ? active_value : -1;
  if (h_field_errors_count(&fe) == 0 && name == NULL && trial < 0 && active < 0) {
    h_field_error(&fe, "name", "nothing_to_change", "Send name, trial_days or active.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *plan = NULL;
  h_result r = h_plan_update(rq->app, &actor, id, name, trial, active, &plan, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, plan, &err);
}

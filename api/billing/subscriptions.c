/* subscriptions.c - /api/v1/subscriptions: subscribe, list, read, cancel, resume,
 * change plan. */
#include <string.h>

#include "billing/billing.h"
#include "billing/subscription_events.h"
#include "billing/subscription_service.h"
#include "crypto/crypto.h"
#include "http/idempotency.h"
#include "http/request.h"
#include "payments/payment_http.h"

/* plan_id: a UUID (required); NULL when absent or invalid (error recorded). */
static const char *field_plan(const json_t *body, struct h_field_errors *fe) {
  const char *plan = h_field_string(body, "plan_id", true, 36, fe);
  if (plan != NULL && !h_uuid_valid(plan)) {
    h_field_error(fe, "plan_id", "invalid_id", "Must be a plan id.");
    return NULL;
  }
  return plan;
}

void h_subscriptions_post(struct h_req *rq) {
  static const char *const allowed[] = {"plan_id", "payment_method_id", NULL};
  const json_t *body = h_payment_body(rq, false);
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *plan = field_plan(body, &fe);
  const char *method = h_payment_field_method(body, &fe);
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *sub = NULL;
  h_result r = h_subscription_create(rq->app, &actor, plan, method, &idem, &sub, &err);
  h_payment_send(rq, r, H_OUTCOME_CREATED, sub, &err);
}

void h_subscriptions_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *data = NULL;
  bool more = false;
  h_result r = h_subscription_list(rq->app, actor.id, &page, &data, &more);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The subscriptions could not be read.", NULL);
    return;
  }
  h_reply_json(rq, 200, h_list_body(data, more));
}

void h_subscription_get(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "subscription");
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *sub = NULL;
  h_result r = h_subscription_read(rq->app, actor.id, id, &sub);
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such subscription.", NULL);
  } else if (r != H_OK) {
    h_reply_error(rq, r, NULL, NULL, NULL);
  } else {
    h_reply_json(rq, 200, sub);
  }
}

/* Runs action on the path's subscription once body (allowed members only) is valid. */
static void act(struct h_req *rq, enum h_subscription_action action, const char *plan,
                struct h_field_errors *fe, const char *id) {
  if (h_field_errors_count(fe) > 0) {
    h_reply_field_errors(rq, fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *sub = NULL;
  h_result r = h_subscription_act(rq->app, &actor, id, action, plan, &sub, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, sub, &err);
}

/* The path's subscription id and the body of an action (optional: an absent body reads
 * as {}), unknown members recorded in fe; false when it replied. */
static bool action_request(struct h_req *rq, const char *const *allowed, bool optional,
                           const char **id, const json_t **body, struct h_field_errors *fe) {
  *id = h_payment_path_id(rq, "subscription");
  *body = *id != NULL ? h_payment_body(rq, optional) : NULL;
  if (*body != NULL) {
    h_reject_unknown(*body, allowed, fe);
  }
  return *body != NULL;
}

void h_subscription_cancel_post(struct h_req *rq) {
  static const char *const allowed[] = {"at_period_end", NULL};
  struct h_field_errors fe = {0};
  const char *id;
  const json_t *body;
  if (action_request(rq, allowed, true, &id, &body, &fe)) {
    bool at_end = true;
    h_field_bool(body, "at_period_end", false, &at_end, &fe);
    act(rq, at_end ? H_SUB_CANCEL_AT_PERIOD_END : H_SUB_CANCEL_NOW, NULL, &fe, id);
  }
}

void h_subscription_resume_post(struct h_req *rq) {
  static const char *const allowed[] = {NULL};
  struct h_field_errors fe = {0};
  const char *id;
  const json_t *body;
  if (action_request(rq, allowed, true, &id, &body, &fe)) {
    act(rq, H_SUB_RESUME, NULL, &fe, id);
  }
}

void h_subscription_plan_post(struct h_req *rq) {
  static const char *const allowed[] = {"plan_id", NULL};
  struct h_field_errors fe = {0};
  const char *id;
  const json_t *body;
  if (action_request(rq, allowed, false, &id, &body, &fe)) {
    act(rq, H_SUB_CHANGE_PLAN, field_plan(body, &fe), &fe, id);
  }
}

void h_admin_subscription_sync_post(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "subscription");
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err = {0};
  json_t *sub = NULL;
  h_result r = h_subscription_sync(rq->app, &actor, id, &sub, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, sub, &err);
}

/* subscription_service.c - subscribe, cancel, resume, change plan: the provider first,
 * then the row takes its answer. */
#include "billing/subscription_service.h"

#include <stdio.h>
#include <string.h>

#include "billing/billing_provider.h"
#include "billing/plan_repo.h"
#include "billing/plan_service.h"
#include "billing/subscription_repo.h"
#include "core/log.h"
#include "payments/payment_internal.h"
#include "store/db.h"

/* What one request works on. */
struct sub_ctx {
  struct h_app *app;
  const struct h_actor *actor;
  const char *plan_id;
  const char *method_input;
  const struct h_idem *idem;
  struct h_error *err;
  struct h_provider prov;
  const struct h_billing_ops *ops;
  struct h_plan plan;
  struct h_subscription row;
  struct h_provider_subscription answer;
  char method[H_PROVIDER_ID_LEN];
  char customer[H_PROVIDER_ID_LEN];
  json_t *made;
};

/* Whether err describes a failure already. */
static bool has_error(const struct h_error *e) { return e->code[0] != '\0'; }

static bool provider_ready(struct sub_ctx *c) {
  c->ops = h_provider_init(&c->prov, c->app->cfg, c->actor->request_id)
               ? h_billing_ops_of(&c->prov) : NULL;
  if (c->ops == NULL) {
    h_error_set(c->err, H_ERR_UNAVAILABLE, "payments_not_configured",
                "Payments are not configured on this server.", NULL);
  }
  return c->ops != NULL;
}

/* The plan c->plan_id, active, into c->plan; failures into c->err. */
static h_result load_plan(PGconn *conn, struct sub_ctx *c) {
  h_result r = h_plan_repo_get(conn, c->plan_id, false, &c->plan);
  if (r == H_ERR_NOT_FOUND) {
    return h_error_set(c->err, H_ERR_INVALID, "invalid_plan", "No such plan.", "plan_id");
  }
  if (r == H_OK && !c->plan.active) {
    return h_error_set(c->err, H_ERR_UNPROCESSABLE, "plan_archived",
                       "This plan no longer takes subscribers.", "plan_id");
  }
  return r == H_OK ? r : h_error_set(c->err, r, NULL, NULL, NULL);
}

static h_result start_tx(PGconn *conn, void *arg) {
  struct sub_ctx *c = arg;
  h_result r = load_plan(conn, c);
  if (r != H_OK) {
    return r;
  }
  struct h_payment_answer fail = {.err = c->err};
  r = h_payment_resolve_method(conn, c->actor->id, c->method_input, c->plan.trial_days == 0,
                               c->method, &fail);
  json_decref(fail.body);
  if (r != H_OK) {
    return r;
  }
  r = h_subscription_repo_live(conn, c->actor->id, &c->row);
  if (r == H_OK && strcmp(c->row.status, "pending") == 0 &&
      strcmp(c->row.plan_id, c->plan_id) == 0) {
    return H_OK; /* a retry of a subscribe whose answer was lost: same provider key */
  }
  r = r == H_OK ? H_ERR_CONFLICT
      : r == H_ERR_NOT_FOUND ? h_subscription_repo_insert(conn, c->actor->id, c->plan_id, &c->row)
                             : r;
  if (r == H_ERR_CONFLICT) {
    return h_error_set(c->err, r, "already_subscribed",
                       "You already have a subscription: change its plan instead.", "plan_id");
  }
  return r == H_OK ? r : h_error_set(c->err, r, NULL, NULL, NULL);
}

/* Writes the provider's answer to the locked row, with an audit row "subscription.<what>". */
static h_result store_answer(PGconn *conn, struct sub_ctx *c, const char *what,
                             const char *plan_id) {
  h_result r = h_subscription_repo_apply(conn, c->row.id, &c->answer, plan_id);
  if (r == H_OK) {
    char action[64];
    snprintf(action, sizeof(action), "subscription.%s", what);
    json_t *d = json_pack("{s:s, s:s, s:s}", "from", c->row.status, "to", c->answer.status,
                          "plan_id", plan_id != NULL ? plan_id : c->row.plan_id);
    r = h_audit_write(conn, c->actor, action, "subscription", c->row.id, d, false);
    json_decref(d);
  }
  return r == H_OK ? h_subscription_repo_get_json(conn, c->row.id, &c->made) : r;
}

static h_result created_tx(PGconn *conn, void *arg) {
  struct sub_ctx *c = arg;
  h_result r = h_subscription_repo_lock(conn, c->row.id, NULL, &c->row);
  if (r == H_OK) {
    r = store_answer(conn, c, "created", NULL);
  }
  return r == H_OK ? h_idem_complete(conn, c->idem, H_OUTCOME_CREATED, c->made) : r;
}

static h_result drop_tx(PGconn *conn, void *arg) {
  struct sub_ctx *c = arg;
  return h_subscription_repo_drop_pending(conn, c->row.id);
}

/* Asks the provider for the subscription of the pending row. */
static h_result create_at_provider(struct sub_ctx *c) {
  h_result r = h_payment_ensure_customer(c->app, &c->prov, c->actor->id, c->customer);
  if (r != H_OK) {
    struct h_provider_error none = {0};
    return h_billing_fail_provider(H_ERR_UNAVAILABLE, &none, NULL, c->err);
  }
  char key[64];
  snprintf(key, sizeof(key), "herald-subscription-%s", c->row.id);
  struct h_provider_error perr = {0};
  r = c->ops->subscription_create(&c->prov, c->customer, c->plan.price, c->plan.trial_days,
                                  c->method, c->row.id, key, &c->answer, &perr);
  if (r == H_ERR_INVALID || r == H_ERR_NOT_FOUND || r == H_ERR_PAYMENT) {
    h_db_tx(c->app->db, drop_tx, c); /* refused: nothing was made */
  }
  return r == H_OK ? r : h_billing_fail_provider(r, &perr, "payment_method_id", c->err);
}

h_result h_subscription_create(struct h_app *app, const struct h_actor *actor,
                               const char *plan_id, const char *method,
                               const struct h_idem *idem, json_t **out, struct h_error *err) {
  struct sub_ctx c = {.app = app, .actor = actor, .plan_id = plan_id, .method_input = method,
                      .idem = idem, .err = err};
  memset(err, 0, sizeof(*err));
  *out = NULL;
  h_result r = provider_ready(&c) ? h_db_tx(app->db, start_tx, &c) : H_ERR_UNAVAILABLE;
  if (r == H_OK) {
    r = create_at_provider(&c);
  }
  if (r == H_OK) {
    r = h_db_tx_json(app->db, created_tx, &c, &c.made, out);
    if (r != H_OK) {
      h_error_set(err, r, NULL, NULL, NULL);
    }
  }
  if (r != H_OK) {
    h_idem_abort(app->db, idem);
  }
  return r;
}

/* What an action needs of the row (and, to change plan, of the new plan). */
static h_result act_read_tx(PGconn *conn, void *arg) {
  struct sub_ctx *c = arg;
  h_result r = h_subscription_repo_lock(conn, c->row.id, c->actor->id, &c->row);
  if (r == H_ERR_NOT_FOUND) {
    return h_error_set(c->err, r, "not_found", "No such subscription.", NULL);
  }
  if (r == H_OK && c->plan_id != NULL) {
    r = load_plan(conn, c);
  }
  return r == H_OK || has_error(c->err) ? r : h_error_set(c->err, r, NULL, NULL, NULL);
}

/* Why action cannot run on c->row (H_OK when it can). */
static h_result act_check(struct sub_ctx *c, enum h_subscription_action action) {
  const char *s = c->row.status;
  if (strcmp(s, "canceled") == 0 || strcmp(s, "incomplete_expired") == 0) {
    return h_error_set(c->err, H_ERR_CONFLICT, "subscription_canceled",
                       "This subscription has ended.", NULL);
  }
  if (c->row.provider_id[0] == '\0') {
    return h_error_set(c->err, H_ERR_CONFLICT, "not_started",
                       "This subscription is still being set up; try again shortly.", NULL);
  }
  if (action == H_SUB_RESUME && !c->row.cancel_at_period_end) {
    return h_error_set(c->err, H_ERR_CONFLICT, "not_canceling",
                       "Only a subscription canceled at the period's end can be resumed.", NULL);
  }
  if (action == H_SUB_CHANGE_PLAN && strcmp(c->plan.id, c->row.plan_id) == 0) {
    return h_error_set(c->err, H_ERR_CONFLICT, "same_plan",
                       "The subscription is already on this plan.", "plan_id");
  }
  return H_OK;
}

static const char *const action_names[] = {"cancel_at_period_end", "canceled", "resumed",
                                           "plan_changed"};

/* Calls the provider for action. */
static h_result act_call(struct sub_ctx *c, enum h_subscription_action action) {
  char key[200];
  snprintf(key, sizeof(key), "herald-subscription-%s-%s-%s", c->row.id, action_names[action],
           c->actor->request_id != NULL ? c->actor->request_id : "");
  struct h_provider_error perr = {0};
  struct h_billing_change ch = {.cancel_at_period_end = -1};
  h_result r;
  if (action == H_SUB_CANCEL_NOW) {
    r = c->ops->subscription_cancel(&c->prov, c->row.provider_id, key, &c->answer, &perr);
  } else {
    if (action == H_SUB_CHANGE_PLAN) {
      ch.item = c->row.item;
      ch.price = c->plan.price;
    } else {
      ch.cancel_at_period_end = action == H_SUB_CANCEL_AT_PERIOD_END ? 1 : 0;
    }
    r = c->ops->subscription_update(&c->prov, c->row.provider_id, &ch, key, &c->answer, &perr);
  }
  return r == H_OK ? r : h_billing_fail_provider(r, &perr, action == H_SUB_CHANGE_PLAN
                                                              ? "plan_id" : NULL, c->err);
}

struct act_store {
  struct sub_ctx *c;
  enum h_subscription_action action;
};

static h_result act_store_tx(PGconn *conn, void *arg) {
  struct act_store *a = arg;
  struct sub_ctx *c = a->c;
  h_result r = h_subscription_repo_lock(conn, c->row.id, NULL, &c->row);
  if (r == H_OK && strcmp(c->row.status, "canceled") == 0) {
    return h_subscription_repo_get_json(conn, c->row.id, &c->made); /* a webhook was first */
  }
  return r == H_OK ? store_answer(conn, c, action_names[a->action],
                                  a->action == H_SUB_CHANGE_PLAN ? c->plan.id : NULL)
                   : r;
}

h_result h_subscription_act(struct h_app *app, const struct h_actor *actor, const char *id,
                            enum h_subscription_action action, const char *plan_id,
                            json_t **out, struct h_error *err) {
  struct sub_ctx c = {.app = app, .actor = actor, .plan_id = plan_id, .err = err};
  memset(err, 0, sizeof(*err));
  *out = NULL;
  snprintf(c.row.id, sizeof(c.row.id), "%s", id);
  if (!provider_ready(&c)) {
    return H_ERR_UNAVAILABLE;
  }
  h_result r = h_db_tx(app->db, act_read_tx, &c);
  if (r == H_OK) {
    r = act_check(&c, action);
  }
  if (r == H_OK && action == H_SUB_CHANGE_PLAN) {
    struct h_plan now;
    PGconn *conn = NULL;
    r = h_db_acquire(app->db, &conn);
    if (r == H_OK) {
      r = h_plan_repo_get(conn, c.row.plan_id, false, &now);
      h_db_release(app->db, conn);
    }
    if (r == H_OK && strcmp(now.currency, c.plan.currency) != 0) {
      r = h_error_set(err, H_ERR_UNPROCESSABLE, "currency_mismatch",
                      "The new plan must bill in the same currency.", "plan_id");
    }
  }
  if (r == H_OK) {
    r = act_call(&c, action);
  }
  if (r == H_OK) {
    struct act_store a = {&c, action};
    r = h_db_tx_json(app->db, act_store_tx, &a, &c.made, out);
  }
  if (r != H_OK && !has_error(err)) {
    h_error_set(err, r, NULL, NULL, NULL);
  }
  return r;
}

struct read_op {
  const char *user_id;
  const char *id;
  const struct h_page *page;
  bool *has_more;
  json_t *made;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct read_op *o = arg;
  return h_subscription_repo_list(conn, o->user_id, o->page, &o->made, o->has_more);
}

h_result h_subscription_list(struct h_app *app, const char *user_id, const struct h_page *page,
                             json_t **data, bool *has_more) {
  struct read_op o = {.user_id = user_id, .page = page, .has_more = has_more};
  return h_db_run_json(app->db, list_tx, &o, &o.made, data);
}

static h_result get_tx(PGconn *conn, void *arg) {
  struct read_op *o = arg;
  struct h_subscription row;
  h_result r = h_subscription_repo_lock(conn, o->id, o->user_id, &row);
  if (r == H_OK && strcmp(row.status, "pending") == 0) {
    r = H_ERR_NOT_FOUND;
  }
  return r == H_OK ? h_subscription_repo_get_json(conn, o->id, &o->made) : r;
}

h_result h_subscription_read(struct h_app *app, const char *user_id, const char *id,
                            json_t **out) {
  struct read_op o = {.user_id = user_id, .id = id};
  return h_db_tx_json(app->db, get_tx, &o, &o.made, out);
}

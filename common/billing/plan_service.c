/* plan_service.c - plans: provider product and price first, then the row. */
#include "billing/plan_service.h"

#include <stdio.h>
#include <string.h>

#include "billing/billing_provider.h"
#include "billing/plan_repo.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "store/db.h"

h_result h_billing_fail_provider(h_result r, const struct h_provider_error *perr,
                                 const char *param, struct h_error *err) {
  if (r == H_ERR_INVALID || r == H_ERR_NOT_FOUND || r == H_ERR_PAYMENT) {
    return h_error_set(err, r == H_ERR_PAYMENT ? H_ERR_PAYMENT : H_ERR_UNPROCESSABLE,
                       perr->code[0] != '\0' ? perr->code : "provider_rejected",
                       perr->message[0] != '\0' ? perr->message
                                                : "The payment provider refused the request.",
                       param);
  }
  h_error_set(err, H_ERR_UNAVAILABLE, "provider_unavailable",
              "The payment provider did not answer; retry the same request.", NULL);
  err->retry_after = true;
  return H_ERR_UNAVAILABLE;
}

/* The configured provider's billing operations, or a failure in err (NULL). */
static const struct h_billing_ops *billing_of(struct h_app *app, const char *request_id,
                                              struct h_provider *prov, struct h_error *err) {
  const struct h_billing_ops *ops = NULL;
  if (h_provider_init(prov, app->cfg, request_id)) {
    ops = h_billing_ops_of(prov);
  }
  if (ops == NULL) {
    h_error_set(err, H_ERR_UNAVAILABLE, "payments_not_configured",
                "Payments are not configured on this server.", NULL);
  }
  return ops;
}

struct create_op {
  const struct h_actor *actor;
  const struct h_plan_new *row;
  const struct h_idem *idem;
  json_t *made;
};

static h_result create_tx(PGconn *conn, void *arg) {
  struct create_op *o = arg;
  h_result r = h_plan_repo_insert(conn, o->row);
  if (r == H_OK) {
    r = h_audit_write(conn, o->actor, "plan.created", "plan", o->row->id, NULL, false);
  }
  if (r == H_OK) {
    r = h_plan_repo_get_json(conn, o->row->id, &o->made);
  }
  return r == H_OK ? h_idem_complete(conn, o->idem, H_OUTCOME_CREATED, o->made) : r;
}

h_result h_plan_create(struct h_app *app, const struct h_actor *actor,
                       const struct h_plan_input *in, const struct h_idem *idem, json_t **out,
                       struct h_error *err) {
  struct h_provider prov;
  *out = NULL;
  const struct h_billing_ops *ops = billing_of(app, actor->request_id, &prov, err);
  if (ops == NULL) {
    h_idem_abort(app->db, idem);
    return H_ERR_UNAVAILABLE;
  }
  char id[37], key[64], product[H_PROVIDER_ID_LEN], price[H_PROVIDER_ID_LEN];
  h_uuid_v4(id);
  snprintf(key, sizeof(key), "herald-plan-%s", id);
  struct h_billing_plan_params p = {.plan_id = id, .name = in->name, .currency = in->currency,
                                    .interval = in->interval, .amount = in->amount,
                                    .interval_count = in->interval_count};
  struct h_provider_error perr = {0};
  h_result r = ops->plan_create(&prov, &p, key, product, price, &perr);
  if (r != H_OK) {
    h_idem_abort(app->db, idem);
    return h_billing_fail_provider(r, &perr, NULL, err);
  }
  struct h_plan_new row = {.id = id, .name = in->name, .currency = in->currency,
                           .interval = in->interval, .product = product, .price = price,
                           .amount = in->amount, .interval_count = in->interval_count,
                           .trial_days = in->trial_days};
  struct create_op o = {.actor = actor, .row = &row, .idem = idem};
  r = h_db_tx_json(app->db, create_tx, &o, &o.made, out);
  if (r != H_OK) {
    h_idem_abort(app->db, idem);
    h_error_set(err, r, NULL, NULL, NULL);
  }
  return r;
}

struct update_op {
  const struct h_actor *actor;
  const char *id, *name;
  int trial_days, active;
  struct h_plan plan;
  json_t *made;
};

static h_result read_tx(PGconn *conn, void *arg) {
  struct update_op *o = arg;
  return h_plan_repo_get(conn, o->id, false, &o->plan);
}

static h_result update_tx(PGconn *conn, void *arg) {
  struct update_op *o = arg;
  h_result r = h_plan_repo_update(conn, o->id, o->name, o->trial_days, o->active);
  if (r == H_OK) {
    json_t *d = json_pack("{s:s?, s:i, s:i}", "name", o->name, "trial_days", o->trial_days,
                          "active", o->active);
    r = h_audit_write(conn, o->actor, "plan.updated", "plan", o->id, d, false);
    json_decref(d);
  }
  return r == H_OK ? h_plan_repo_get_json(conn, o->id, &o->made) : r;
}

h_result h_plan_update(struct h_app *app, const struct h_actor *actor, const char *id,
                       const char *name, int trial_days, int active, json_t **out,
                       struct h_error *err) {
  struct update_op o = {.actor = actor, .id = id, .name = name, .trial_days = trial_days,
                        .active = active};
  *out = NULL;
  h_result r = h_db_run(app->db, read_tx, &o);
  if (r != H_OK) {
    return h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                       r == H_ERR_NOT_FOUND ? "No such plan." : NULL, NULL);
  }
  if (name != NULL || active >= 0) {
    struct h_provider prov;
    const struct h_billing_ops *ops = billing_of(app, actor->request_id, &prov, err);
    if (ops == NULL) {
      return H_ERR_UNAVAILABLE;
    }
    char key[160];
    snprintf(key, sizeof(key), "herald-plan-%s-update-%s", id,
             actor->request_id != NULL ? actor->request_id : "");
    struct h_provider_error perr = {0};
    r = ops->plan_update(&prov, o.plan.product, name, active >= 0 ? active == 1 : o.plan.active,
                         key, &perr);
    if (r != H_OK) {
      return h_billing_fail_provider(r, &perr, NULL, err);
    }
  }
  r = h_db_tx_json(app->db, update_tx, &o, &o.made, out);
  return r == H_OK ? r : h_error_set(err, r, NULL, NULL, NULL);
}

struct list_op {
  const struct h_page *page;
  bool active_only;
  bool *has_more;
  json_t *made;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct list_op *o = arg;
  return h_plan_repo_list(conn, o->page, o->active_only, &o->made, o->has_more);
}

h_result h_plan_list(struct h_app *app, const struct h_page *page, bool active_only,
                     json_t **data, bool *has_more) {
  struct list_op o = {page, active_only, has_more, NULL};
  return h_db_run_json(app->db, list_tx, &o, &o.made, data);
}

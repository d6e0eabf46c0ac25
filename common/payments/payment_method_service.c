/* payment_method_service.c - saved payment methods. */
#include "payments/payment_method_service.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "core/log.h"
#include "payments/payment_internal.h"
#include "payments/payment_method_repo.h"
#include "payments/payment_repo.h"

struct pm_op {
  const struct h_actor *actor;
  const char *user_id;
  const char *id;
  const struct h_page *page;
  const struct h_provider_method *pm;
  const struct h_idem *idem;
  struct h_saved_pm saved;
  char customer[H_PROVIDER_ID_LEN];
  json_t *out;
  bool more;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct pm_op *o = arg;
  return h_payment_method_repo_list(conn, o->user_id, o->page, &o->out, &o->more);
}

h_result h_payment_method_list(struct h_app *app, const char *user_id,
                               const struct h_page *page, json_t **data, bool *has_more,
                               struct h_error *err) {
  struct pm_op o = {.user_id = user_id, .page = page};
  memset(err, 0, sizeof(*err));
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  if (r != H_OK) {
    json_decref(o.out);
    *data = NULL;
    h_error_set(err, r, NULL, "The payment methods could not be read.", NULL);
  }
  return r;
}

/* Saves the attached method; the customer row lock serialises a user's changes. */
static h_result add_tx(PGconn *conn, void *arg) {
  struct pm_op *o = arg;
  h_result r = h_customer_repo_get(conn, o->user_id, true, o->customer);
  if (r == H_OK) {
    r = h_payment_method_repo_insert(conn, o->id, o->user_id, o->pm, &o->out);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{ssss}", "provider_payment_method_id", o->pm->id, "brand",
                          o->pm->brand);
    r = h_audit_write(conn, o->actor, "payment_method.added", "payment_method", o->id, d, false);
    json_decref(d);
  }
  if (r == H_OK) {
    r = h_idem_complete(conn, o->idem, H_OUTCOME_CREATED, o->out);
  }
  return r;
}

/* Answers a failed attach. */
static void attach_failed(struct h_payment_answer *a, h_result r,
                          const struct h_provider_error *err) {
  if (r == H_ERR_INVALID && strcmp(err->code, "payment_method_already_attached") == 0) {
    h_payment_fail(a, H_ERR_CONFLICT, "payment_method_in_use",
                   "This payment method is attached to another customer.",
                   "provider_payment_method_id");
  } else if (r == H_ERR_INVALID || r == H_ERR_NOT_FOUND) {
    h_payment_fail(a, H_ERR_INVALID,
                   strcmp(err->code, "resource_missing") == 0 ? "invalid_payment_method"
                                                              : "provider_rejected",
                   err->message[0] ? err->message : "The provider refused this payment method.",
                   "provider_payment_method_id");
  } else {
    h_payment_fail_provider_down(a, r, "saving the payment method");
  }
}

/* Attaches provider_id at the provider, then saves it. */
static void attach_and_save(struct h_app *app, const struct h_provider *prov, struct pm_op *o,
                            const char *provider_id, struct h_payment_answer *a) {
  struct h_provider_method pm;
  struct h_provider_error err = {0};
  char key[96];
  snprintf(key, sizeof(key), "herald-payment-method-%s-attach", o->id);
  h_result r = prov->ops->method_attach(prov, provider_id, o->customer, key, &pm, &err);
  if (r != H_OK) {
    attach_failed(a, r, &err);
    return;
  }
  o->pm = &pm;
  r = h_db_tx(app->db, add_tx, o);
  if (r == H_OK) {
    h_payment_answer_ok(a, o->out);
    return;
  }
  json_decref(o->out);
  if (r == H_ERR_CONFLICT) {
    h_payment_fail(a, r, "payment_method_exists", "This payment method is saved already.",
                   "provider_payment_method_id");
  } else {
    h_payment_fail(a, r, NULL, "The payment method could not be saved.", NULL);
  }
}

h_result h_payment_method_add(struct h_app *app, const struct h_actor *actor,
                              const char *user_id, const char *provider_id,
                              const struct h_idem *idem, json_t **method,
                              enum h_outcome *outcome, struct h_error *err) {
  struct h_provider prov;
  struct pm_op o = {.actor = actor, .user_id = user_id, .idem = idem};
  struct h_payment_answer a = {.err = err};
  char id[37];
  memset(err, 0, sizeof(*err));
  *outcome = H_OUTCOME_CREATED;
  h_uuid_v4(id);
  o.id = id;
  h_result r = H_OK;
  if (!h_provider_init_methods(&prov, app->cfg, actor->request_id)) {
    h_payment_fail_disabled(&a);
  } else if ((r = h_payment_ensure_customer(app, &prov, user_id, o.customer)) != H_OK) {
    h_payment_fail_provider_down(&a, r, "preparing the customer");
  } else {
    attach_and_save(app, &prov, &o, provider_id, &a);
  }
  if (a.result != H_OK) {
    h_idem_abort(app->db, idem);
  }
  return h_payment_answer_give(&a, method);
}

static h_result get_tx(PGconn *conn, void *arg) {
  struct pm_op *o = arg;
  h_result r = h_payment_method_repo_get(conn, o->id, o->user_id, &o->saved);
  if (r == H_OK) {
    r = h_customer_repo_get(conn, o->user_id, false, o->customer);
  }
  return r;
}

static h_result delete_tx(PGconn *conn, void *arg) {
  struct pm_op *o = arg;
  h_result r = h_customer_repo_get(conn, o->user_id, true, o->customer);
  if (r == H_OK) {
    r = h_payment_method_repo_delete(conn, o->id, o->user_id);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{ss}", "provider_payment_method_id", o->saved.provider_id);
    r = h_audit_write(conn, o->actor, "payment_method.deleted", "payment_method", o->id, d,
                      false);
    json_decref(d);
  }
  return r;
}

/* Reads the user's method and customer; false when it answered. */
static bool load(struct h_app *app, struct pm_op *o, struct h_provider *prov,
                 struct h_payment_answer *a) {
  h_result r = h_db_run(app->db, get_tx, o);
  if (r == H_ERR_NOT_FOUND) {
    h_payment_fail(a, r, "not_found", "No such payment method.", NULL);
  } else if (r != H_OK) {
    h_payment_fail(a, r, NULL, "The payment method could not be read.", NULL);
  } else if (!h_provider_init_methods(prov, app->cfg, o->actor->request_id)) {
    h_payment_fail_disabled(a);
  } else {
    return true;
  }
  return false;
}

h_result h_payment_method_remove(struct h_app *app, const struct h_actor *actor,
                                 const char *user_id, const char *id, struct h_error *err) {
  struct pm_op o = {.actor = actor, .user_id = user_id, .id = id};
  struct h_payment_answer a = {.err = err};
  struct h_provider prov;
  memset(err, 0, sizeof(*err));
  if (!load(app, &o, &prov, &a)) {
    return a.result;
  }
  char key[128], nonce[37];
  h_uuid_v4(nonce);
  snprintf(key, sizeof(key), "herald-payment-method-%s-detach-%s", id, nonce);
  struct h_provider_error perr = {0};
  h_result r = prov.ops->method_detach(&prov, o.saved.provider_id, key, &perr);
  bool gone = r == H_ERR_NOT_FOUND ||
              (r == H_ERR_INVALID && strcmp(perr.code, "payment_method_unexpected_state") == 0);
  if (r != H_OK && !gone) {
    h_payment_fail_provider_error(&a, r, &perr, "removing the payment method");
    return a.result;
  }
  r = h_db_tx(app->db, delete_tx, &o);
  if (r != H_OK) {
    h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                r == H_ERR_NOT_FOUND ? "No such payment method."
                                     : "The payment method could not be deleted.",
                NULL);
  }
  return r;
}

static h_result default_tx(PGconn *conn, void *arg) {
  struct pm_op *o = arg;
  h_result r = h_customer_repo_get(conn, o->user_id, true, o->customer);
  if (r == H_OK) {
    r = h_payment_method_repo_set_default(conn, o->id, o->user_id, &o->out);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, o->actor, "payment_method.default_set", "payment_method", o->id,
                      NULL, false);
  }
  return r;
}

h_result h_payment_method_set_default(struct h_app *app, const struct h_actor *actor,
                                      const char *user_id, const char *id, json_t **method,
                                      enum h_outcome *outcome, struct h_error *err) {
  struct pm_op o = {.actor = actor, .user_id = user_id, .id = id};
  struct h_payment_answer a = {.err = err};
  struct h_provider prov;
  memset(err, 0, sizeof(*err));
  *outcome = H_OUTCOME_OK;
  if (!load(app, &o, &prov, &a)) {
    return h_payment_answer_give(&a, method);
  }
  char key[128], nonce[37];
  h_uuid_v4(nonce);
  snprintf(key, sizeof(key), "herald-customer-%s-default-%s", user_id, nonce);
  struct h_provider_error perr = {0};
  h_result r = prov.ops->customer_set_default(&prov, o.customer, o.saved.provider_id, key, &perr);
  if (r != H_OK) {
    h_payment_fail_provider_error(&a, r, &perr, "setting the default payment method");
  } else if ((r = h_db_tx(app->db, default_tx, &o)) == H_OK) {
    h_payment_answer_ok(&a, o.out);
  } else {
    json_decref(o.out);
    h_payment_fail(&a, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                   r == H_ERR_NOT_FOUND ? "No such payment method."
                                        : "The default could not be changed.",
                   NULL);
  }
  return h_payment_answer_give(&a, method);
}

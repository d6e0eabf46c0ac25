/* refund_service.c - creating and listing refunds. */
#include "payments/refund_service.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/money.h"
#include "payments/payment_internal.h"
#include "payments/payment_sync.h"
#include "payments/refund_repo.h"

struct refund_ctx {
  struct h_app *app;
  const struct h_actor *actor;
  const char *payment_id;
  const char *reason;
  const struct h_idem *idem;
  long long amount;
  struct h_provider prov;
  struct h_payment payment;
  struct h_refund refund;
  struct h_payment_notices notices;
  struct h_payment_answer a;
};

/* Unprocessable, with a message naming amounts in the payment's currency. */
static void fail_too_much(struct refund_ctx *c, long long remainder) {
  const struct h_currency *cur = h_currency_find(c->payment.currency);
  char want[48], left[48], message[200];
  h_money_format(cur, c->amount, want, sizeof(want));
  h_money_format(cur, remainder, left, sizeof(left));
  snprintf(message, sizeof(message), "The refund (%s) is more than what is left to refund (%s).",
           want, left);
  h_payment_fail(&c->a, H_ERR_UNPROCESSABLE, "amount_exceeds_refundable", message, "amount");
}

/* First transaction: checks against the locked payment, the pending refund row. */
static h_result refund_begin(PGconn *conn, struct refund_ctx *c, bool *call) {
  *call = false;
  h_result r = h_payment_repo_lock(conn, c->payment_id, NULL, &c->payment);
  if (r == H_ERR_NOT_FOUND) {
    h_payment_fail(&c->a, r, "not_found", "No such payment.", NULL);
    return H_OK;
  }
  if (r != H_OK) {
    return r;
  }
  if (!h_provider_init_named(&c->prov, c->app->cfg, c->payment.provider,
                             c->actor->request_id)) {
    h_payment_fail_disabled(&c->a); /* the payment's provider, not the default */
    return H_OK;
  }
  long long remainder = c->payment.amount - c->payment.amount_refunded;
  if (strcmp(c->payment.status, "succeeded") != 0 || remainder <= 0) {
    h_payment_fail(&c->a, H_ERR_UNPROCESSABLE,
                   remainder <= 0 ? "payment_fully_refunded" : "payment_not_refundable",
                   remainder <= 0 ? "The payment has been refunded in full already."
                                  : "Only a succeeded payment can be refunded.",
                   NULL);
    return H_OK;
  }
  if (c->amount <= 0) {
    c->amount = remainder;
  } else if (c->amount > remainder) {
    fail_too_much(c, remainder);
    return H_OK;
  }
  struct h_refund_new in = {.payment_id = c->payment.id, .currency = c->payment.currency,
                            .reason = c->reason, .status = "pending", .created_by = c->actor->id,
                            .amount = c->amount, .in_doubt = true};
  r = h_refund_repo_insert(conn, &in, &c->refund);
  if (r == H_OK) {
    r = h_payment_repo_recount_refunds(conn, c->payment.id);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{sssIss}", "payment_id", c->payment.id, "amount",
                          (json_int_t)c->amount, "reason", c->reason);
    r = h_audit_write(conn, c->actor, "refund.created", "refund", c->refund.id, d, false);
    json_decref(d);
  }
  *call = r == H_OK;
  return r;
}

/* Second transaction: the provider's answer applied to the refund. */
static h_result refund_finish(PGconn *conn, struct refund_ctx *c, h_result call,
                              struct h_provider_refund *obj, const struct h_provider_error *err) {
  h_result r = h_payment_repo_lock(conn, c->payment.id, NULL, &c->payment);
  if (r == H_OK && call == H_OK) {
    snprintf(obj->herald_refund_id, sizeof(obj->herald_refund_id), "%s", c->refund.id);
    r = h_payment_sync_refund(conn, c->actor, obj, H_SYNC_ANSWER, &c->notices, NULL);
  } else if (r == H_OK && (call == H_ERR_INVALID || call == H_ERR_NOT_FOUND)) {
    r = h_refund_repo_apply(conn, c->refund.id, "failed", NULL, err->code, false);
    if (r == H_OK) {
      r = h_payment_repo_recount_refunds(conn, c->payment.id);
    }
    if (r == H_OK) {
      h_payment_fail(&c->a, H_ERR_UNPROCESSABLE, "refund_rejected",
                     err->message[0] ? err->message : "The provider refused the refund.", NULL);
      return H_OK;
    }
  }
  /* Any other outcome keeps the refund pending and in doubt, as inserted. */
  json_t *refund = NULL;
  if (r == H_OK) {
    r = h_refund_repo_get_json(conn, c->refund.id, &refund);
  }
  if (r == H_OK) {
    h_payment_answer_ok(&c->a, refund);
  }
  return r;
}

static h_result refund_call(struct refund_ctx *c, struct h_provider_refund *obj,
                            struct h_provider_error *err) {
  char key[96];
  snprintf(key, sizeof(key), "herald-refund-%s", c->refund.id);
  const char *ref = c->payment.reference[0] != '\0' ? c->payment.reference : c->payment.pi_id;
  h_result r = c->prov.ops->refund_create(&c->prov, ref, c->amount, c->reason, c->refund.id, key,
                                          obj, err);
  if (r != H_OK && r != H_ERR_INVALID && r != H_ERR_NOT_FOUND) {
    h_log(H_LOG_WARNING, NULL, c->actor->request_id,
          "refund %s: provider outcome unknown (%s); left pending for reconciliation",
          c->refund.id, h_result_name(r));
  }
  return r;
}

static h_result refund_run(struct refund_ctx *c) {
  PGconn *conn = NULL;
  bool call = false;
  h_result r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    r = refund_begin(conn, c, &call);
  }
  r = h_db_tx_finish(c->app->db, conn, r);
  if (r != H_OK || !call) {
    return r;
  }
  struct h_provider_refund obj;
  struct h_provider_error err = {0};
  h_result called = refund_call(c, &obj, &err);
  conn = NULL;
  r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    r = refund_finish(conn, c, called, &obj, &err);
  }
  if (r == H_OK) {
    r = h_payment_answer_store(conn, c->idem, &c->a, H_OUTCOME_CREATED);
  }
  return h_db_tx_finish(c->app->db, conn, r);
}

h_result h_refund_create(struct h_app *app, const struct h_actor *actor, const char *payment_id,
                         long long amount, const char *reason, const struct h_idem *idem,
                         json_t **refund, enum h_outcome *outcome, struct h_error *err) {
  struct refund_ctx c = {.app = app, .actor = actor, .payment_id = payment_id,
                         .reason = reason, .idem = idem, .amount = amount, .a = {.err = err}};
  memset(err, 0, sizeof(*err));
  *outcome = H_OUTCOME_CREATED;
  h_result r = H_OK;
  if ((r = refund_run(&c)) != H_OK) {
    h_log(H_LOG_ERROR, NULL, actor->request_id, "h_refund_create: %s", h_result_name(r));
    h_payment_fail(&c.a, r, NULL, "The refund could not be recorded; try again.", NULL);
  }
  if (c.a.result != H_OK) {
    h_idem_abort(app->db, idem); /* a no-op for a failure stored as final */
  }
  if (r == H_OK) {
    h_payment_notices_push(app, &c.notices, actor->request_id);
  }
  return h_payment_answer_give(&c.a, refund);
}

struct list_op {
  const struct h_payment_viewer *v;
  const char *payment_id;
  const struct h_page *page;
  json_t *data;
  bool more;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct list_op *o = arg;
  json_t *payment = NULL;
  h_result r = h_payment_repo_get_json(conn, o->payment_id, o->v->admin ? NULL : o->v->user_id,
                                       &payment);
  json_decref(payment);
  return r == H_OK ? h_refund_repo_list(conn, o->payment_id, o->page, &o->data, &o->more) : r;
}

h_result h_refund_list(struct h_app *app, const struct h_payment_viewer *v,
                       const char *payment_id, const struct h_page *page, json_t **data,
                       bool *has_more, struct h_error *err) {
  struct list_op o = {.v = v, .payment_id = payment_id, .page = page};
  memset(err, 0, sizeof(*err));
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.data;
  *has_more = o.more;
  if (r != H_OK) {
    json_decref(o.data);
    *data = NULL;
    h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                r == H_ERR_NOT_FOUND ? "No such payment." : "The refunds could not be read.",
                NULL);
  }
  return r;
}

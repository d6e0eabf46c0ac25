/* payment_service.c - creating, reading and listing payments. */
#include "payments/payment_service.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/money.h"
#include "payments/payment_internal.h"
#include "payments/payment_sync.h"
#include "payments/refund_repo.h"

bool h_payments_enabled(const struct h_app *app, const char *provider) {
  struct h_provider prov;
  return h_provider_init_named(&prov, app->cfg, provider, NULL);
}

/* The currencies a provider takes, as an array: its own list, or every accepted one. */
static json_t *provider_currencies(const struct h_app *app, const struct h_provider *prov) {
  json_t *out = json_array();
  for (const struct h_currency *c = h_currencies(); c->code[0] != '\0'; c++) {
    bool own = strcmp(prov->ops->currencies, "*") == 0 || strstr(prov->ops->currencies, c->code);
    if (own && h_currency_enabled(app->cfg->payment_currencies, c->code)) {
      json_array_append_new(out, json_string(c->code));
    }
  }
  return out;
}

json_t *h_payment_config(const struct h_app *app) {
  static const char *const names[] = {"stripe", "mpesa", NULL};
  json_t *list = json_array();
  for (size_t i = 0; names[i] != NULL; i++) {
    struct h_provider prov;
    bool on = h_provider_init_named(&prov, app->cfg, names[i], NULL);
    json_t *p = json_pack("{sssbsoss}", "name", names[i], "enabled", on, "currencies",
                          provider_currencies(app, &prov), "needs",
                          prov.ops->method_attach != NULL ? "payment_method" : "phone");
    const char *pk = app->cfg->stripe_publishable_key;
    if (prov.ops->method_attach != NULL && pk != NULL && pk[0] != '\0') {
      json_object_set_new(p, "publishable_key", json_string(pk));
    }
    json_array_append_new(list, p);
  }
  return json_pack("{ssssso}", "object", "payment_config", "default_provider",
                   app->cfg->payment_default_provider, "providers", list);
}

/* One create request on its way through the two transactions. */
struct create_ctx {
  struct h_app *app;
  const struct h_actor *actor;
  const char *user_id;
  const struct h_payment_create *in;
  const struct h_idem *idem;
  struct h_provider prov;
  char customer[H_PROVIDER_ID_LEN];
  char method[H_PROVIDER_ID_LEN];
  struct h_payment row;
  struct h_payment_notices notices;
  struct h_payment_answer a;
  bool store;        /* the answer is final: keep it under the Idempotency-Key */
  bool was_in_doubt; /* an earlier attempt's outcome was unknown */
};

/* Answers with the payment as its payer sees it. */
static h_result answer_payment(PGconn *conn, const char *id, const char *viewer,
                               struct h_payment_answer *a) {
  json_t *payment = NULL;
  h_result r = h_payment_repo_get_json(conn, id, NULL, &payment);
  if (r == H_OK) {
    h_payment_answer_ok(a, h_payment_view(payment, viewer));
  }
  return r;
}

/* The answer to a key reused with another request (not stored). */
static h_result answer_key_reused(struct create_ctx *c) {
  h_payment_fail(&c->a, H_ERR_INVALID, "idempotency_key_reused",
                 "This Idempotency-Key was used with a different request.", "Idempotency-Key");
  snprintf(c->a.err->type, sizeof(c->a.err->type), "idempotency_error");
  return H_OK;
}

/* First transaction: the payment row (new, or the one a retry with the same key
 * finds), marked in doubt before the provider call. *call says whether to call the
 * provider; otherwise c->a holds the answer (or r is a database error). */
static h_result create_begin(struct create_ctx *c, PGconn *conn, bool *call) {
  const struct h_payment_create *in = c->in;
  *call = false;
  h_result r = h_payment_resolve_method(conn, c->user_id, in->payment_method, in->confirm,
                                        c->method, &c->a);
  if (r != H_OK) { /* the answer is invalid/unprocessable; not stored: a corrected retry runs */
    return r == H_ERR_INVALID || r == H_ERR_UNPROCESSABLE ? H_OK : r;
  }
  struct h_fee_table provider, platform;
  const char *why = NULL;
  h_fee_table_parse(c->app->cfg->payment_provider_fees, &provider, &why);
  h_fee_table_parse(c->app->cfg->payment_platform_fees, &platform, &why);
  struct h_fees fees = h_fees_compute(&provider, &platform, in->currency, in->amount);
  struct h_payment_new row = {
    .user_id = c->user_id, .idempotency_key = c->idem->key, .request_hash = c->idem->hash,
    .payment_type = in->payment_type, .currency = in->currency, .description = in->description,
    .metadata = in->metadata, .customer = c->customer,
    .payment_method = c->method[0] != '\0' ? c->method : NULL, .provider = c->prov.ops->name,
    .amount = in->amount,
    .fee_provider = fees.provider, .fee_platform = fees.platform,
  };
  bool created = false;
  r = h_payment_repo_insert(conn, &row, &c->row, &created);
  if (r != H_OK) {
    return r;
  }
  if (!created && strcmp(c->row.request_hash, c->idem->hash) != 0) {
    return answer_key_reused(c);
  }
  if (!created && c->row.pi_id[0] != '\0' && !c->row.needs_reconciliation) {
    c->store = true; /* settled by an earlier attempt: answer with what it is now */
    return answer_payment(conn, c->row.id, c->user_id, &c->a);
  }
  if (!created && c->row.needs_reconciliation && !c->prov.ops->create_replayable) {
    /* the provider cannot replay: never push twice; sync settles it or leaves it for review */
    return answer_payment(conn, c->row.id, c->user_id, &c->a);
  }
  if (created) {
    json_t *d = json_pack("{sIsssssb}", "amount", (json_int_t)in->amount, "currency",
                          in->currency, "payment_type", in->payment_type, "confirm", in->confirm);
    r = h_audit_write(conn, c->actor, "payment.created", "payment", c->row.id, d, false);
    json_decref(d);
  }
  c->was_in_doubt = c->row.needs_reconciliation;
  if (r == H_OK) {
    r = h_payment_repo_mark_in_doubt(conn, c->row.id, c->row.confirm_attempts,
                                     c->method[0] != '\0' ? c->method : NULL);
  }
  *call = r == H_OK;
  return r;
}

/* Second transaction: the provider's answer applied to the locked row. */
static h_result create_finish(struct create_ctx *c, PGconn *conn, h_result call,
                              const struct h_provider_payment *pi,
                              const struct h_provider_error *err) {
  h_result r = h_payment_repo_lock(conn, c->row.id, NULL, &c->row);
  if (r == H_OK && (call == H_OK || (call == H_ERR_PAYMENT && pi->id[0] != '\0'))) {
    r = h_payment_sync_intent(conn, c->actor, &c->row, pi, H_SYNC_ANSWER, &c->notices, NULL);
    c->store = r == H_OK;
    if (r == H_OK && call == H_OK) {
      r = answer_payment(conn, c->row.id, c->user_id, &c->a);
    } else if (r == H_OK) {
      h_payment_fail_declined(&c->a, err, c->row.id);
    }
  } else if (r == H_OK && (call == H_ERR_INVALID || call == H_ERR_NOT_FOUND)) {
    /* The provider refused the request itself: nothing exists there, nothing to retry. */
    json_t *why = json_pack("{ssss}", "code", err->code, "message", err->message);
    struct h_payment_update u = {.status = "canceled", .cancellation_reason = "provider_rejected",
                                 .last_payment_error = why, .set_error = true};
    r = h_payment_apply(conn, c->actor, &c->row, &u, "provider_rejected");
    json_decref(why);
    c->store = r == H_OK;
    h_payment_fail_provider_error(&c->a, call, err, "creating the payment");
  } else if (r == H_OK && call == H_ERR_PAYMENT) {
    struct h_payment_update u = {.in_doubt = true}; /* declined, intent not sent back */
    r = h_payment_repo_apply(conn, c->row.id, &u);
    h_payment_fail_declined(&c->a, err, c->row.id);
  } else if (r == H_OK && call == H_ERR_RATE_LIMITED) {
    /* Refused before doing anything: nothing happened; a retry resumes. */
    struct h_payment_update u = {.in_doubt = c->was_in_doubt};
    r = h_payment_repo_apply(conn, c->row.id, &u);
    h_payment_fail_provider_down(&c->a, call, "creating the payment");
  } else if (r == H_OK) {
    /* Unknown outcome: stays in doubt; processing when a charge may have happened. */
    struct h_payment_update u = {.status = c->in->confirm ? "processing" : NULL,
                                 .in_doubt = true};
    r = h_payment_apply(conn, c->actor, &c->row, &u, "no_answer");
    h_payment_fail_provider_down(&c->a, call, "creating the payment");
  }
  if (r == H_OK && c->store) {
    r = h_payment_answer_store(conn, c->idem, &c->a, H_OUTCOME_CREATED);
  }
  return r;
}

/* The provider call between the two transactions. */
static h_result create_call(struct create_ctx *c, struct h_provider_payment *pi,
                            struct h_provider_error *err) {
  char key[96];
  snprintf(key, sizeof(key), "herald-payment-%s-create", c->row.id);
  struct h_provider_payment_params p = {
    .payment_id = c->row.id, .user_id = c->user_id, .payment_type = c->in->payment_type,
    .currency = c->in->currency, .description = c->in->description, .customer = c->customer,
    .payment_method = c->method[0] != '\0' ? c->method : NULL, .metadata = c->in->metadata,
    .amount = c->in->amount, .confirm = c->in->confirm,
  };
  return c->prov.ops->payment_create(&c->prov, &p, key, pi, err);
}

/* Both transactions and the provider call between them. A result other than H_OK
 * is a database failure the caller still has to answer. */
static h_result create_run(struct create_ctx *c) {
  PGconn *conn = NULL;
  bool call = false;
  h_result r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    r = create_begin(c, conn, &call);
    if (r == H_OK && c->store) {
      r = h_payment_answer_store(conn, c->idem, &c->a, H_OUTCOME_CREATED);
    }
  }
  r = h_db_tx_finish(c->app->db, conn, r);
  if (r != H_OK || !call) {
    return r;
  }
  struct h_provider_payment pi = {0};
  struct h_provider_error err = {0};
  h_result called = create_call(c, &pi, &err);
  conn = NULL;
  r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    r = create_finish(c, conn, called, &pi, &err);
  }
  r = h_db_tx_finish(c->app->db, conn, r);
  h_provider_payment_clear(&pi);
  return r;
}

h_result h_payment_create(struct h_app *app, const struct h_actor *actor, const char *user_id,
                          const struct h_payment_create *in, const struct h_idem *idem,
                          json_t **payment, enum h_outcome *outcome, struct h_error *err) {
  struct create_ctx c = {.app = app, .actor = actor, .user_id = user_id, .in = in, .idem = idem,
                         .a = {.err = err}};
  memset(err, 0, sizeof(*err));
  *outcome = H_OUTCOME_CREATED;
  h_result r = H_OK;
  if (!h_provider_init_named(&c.prov, app->cfg, in->provider, actor->request_id)) {
    h_payment_fail_disabled(&c.a);
  } else if (c.prov.ops->customer_create != NULL &&
             (r = h_payment_ensure_customer(app, &c.prov, user_id, c.customer)) != H_OK) {
    h_payment_fail_provider_down(&c.a, r, "preparing the customer");
  } else if ((r = create_run(&c)) != H_OK) {
    h_log(H_LOG_ERROR, NULL, actor->request_id, "h_payment_create: %s", h_result_name(r));
    h_payment_fail(&c.a, r, NULL, "The payment could not be recorded; retry the same request.",
                   NULL);
    c.store = false;
  }
  if (!c.store) {
    h_idem_abort(app->db, idem); /* not a final answer: the client's retry runs again */
  }
  if (r == H_OK) {
    h_payment_notices_push(app, &c.notices, actor->request_id);
  }
  return h_payment_answer_give(&c.a, payment);
}

/* ------------------------------------------------------------------ reading */

struct read_op {
  const struct h_payment_viewer *v;
  const char *id;
  struct h_payment_filter *filter;
  const struct h_page *page;
  json_t *out;
  bool more;
};

static h_result get_tx(PGconn *conn, void *arg) {
  struct read_op *o = arg;
  h_result r = h_payment_repo_get_json(conn, o->id, o->v->admin ? NULL : o->v->user_id, &o->out);
  json_t *refunds = NULL;
  bool more = false;
  struct h_page page = {.limit = 100, .starting_after = NULL};
  if (r == H_OK) {
    r = h_refund_repo_list(conn, o->id, &page, &refunds, &more);
  }
  if (r == H_OK) {
    json_object_set_new(o->out, "refunds", h_list_body(refunds, more));
  }
  return r;
}

h_result h_payment_find(struct h_app *app, const struct h_payment_viewer *v, const char *id,
                        json_t **payment, struct h_error *err) {
  struct read_op o = {.v = v, .id = id};
  memset(err, 0, sizeof(*err));
  *payment = NULL;
  h_result r = h_db_run(app->db, get_tx, &o);
  if (r == H_OK) {
    *payment = h_payment_view(o.out, v->user_id);
    return r;
  }
  json_decref(o.out);
  return h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                     r == H_ERR_NOT_FOUND ? "No such payment." : "The payment could not be read.",
                     NULL);
}

static h_result list_tx(PGconn *conn, void *arg) {
  struct read_op *o = arg;
  return h_payment_repo_list(conn, o->filter, o->page, &o->out, &o->more);
}

h_result h_payment_list(struct h_app *app, const struct h_payment_viewer *v,
                        struct h_payment_filter *filter, const struct h_page *page,
                        json_t **data, bool *has_more) {
  filter->owner = v->admin ? NULL : v->user_id;
  struct read_op o = {.v = v, .filter = filter, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  size_t i;
  json_t *p;
  json_array_foreach(o.out, i, p) {
    h_payment_view(p, v->user_id);
  }
  *data = o.out;
  *has_more = o.more;
  return r;
}

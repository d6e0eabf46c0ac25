/* payment_actions.c - confirming and canceling payments. */
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "payments/payment_internal.h"
#include "payments/payment_service.h"
#include "payments/payment_sync.h"

/* One confirm or cancel on its way through the two transactions. */
struct action_ctx {
  struct h_app *app;
  const struct h_actor *actor;
  const char *owner;  /* NULL: any payer (admins) */
  const char *viewer;
  const char *id;
  const char *method_input;
  const char *reason;
  bool cancel;
  struct h_provider prov;
  struct h_payment row;
  char method[H_PROVIDER_ID_LEN];
  char key[128];
  struct h_payment_notices notices;
  struct h_payment_answer a;
  bool was_in_doubt; /* an earlier call's outcome was unknown */
};

/* Answers with the payment as it is now. */
static h_result answer_current(PGconn *conn, struct action_ctx *c) {
  json_t *payment = NULL;
  h_result r = h_payment_repo_get_json(conn, c->row.id, NULL, &payment);
  if (r == H_OK) {
    h_payment_answer_ok(&c->a, h_payment_view(payment, c->viewer));
  }
  return r;
}

/* Unprocessable, naming the current status. */
static void fail_state(struct h_payment_answer *a, const char *code, const char *verb,
                       const char *status) {
  char message[160];
  snprintf(message, sizeof(message), "A payment in status %s cannot be %s.", status, verb);
  h_payment_fail(a, H_ERR_UNPROCESSABLE, code, message, NULL);
}

/* Checks a confirm against the locked row and picks the method; false when answered. */
static bool confirm_allowed(PGconn *conn, struct action_ctx *c, h_result *r) {
  bool in_doubt_processing =
      strcmp(c->row.status, "processing") == 0 && c->row.needs_reconciliation;
  if (!h_payment_status_confirmable(c->row.status) && !in_doubt_processing) {
    fail_state(&c->a, "payment_not_confirmable", "confirmed", c->row.status);
    return false;
  }
  if (c->row.pi_id[0] == '\0') {
    h_payment_fail(&c->a, H_ERR_CONFLICT, "payment_not_ready",
                   "The payment is still being created; retry its creation with the same "
                   "Idempotency-Key first.", NULL);
    return false;
  }
  bool need = c->method_input == NULL && c->row.payment_method[0] == '\0';
  *r = h_payment_resolve_method(conn, c->row.user_id, c->method_input, need, c->method, &c->a);
  if (*r == H_ERR_INVALID || *r == H_ERR_UNPROCESSABLE) {
    *r = H_OK;
    return false;
  }
  return *r == H_OK;
}

/* Checks a cancel against the locked row; false when answered. */
static bool cancel_allowed(struct action_ctx *c) {
  if (!h_payment_status_cancelable(c->row.status)) {
    fail_state(&c->a, "payment_not_cancelable", "canceled", c->row.status);
    return false;
  }
  if (c->row.needs_reconciliation) {
    h_payment_fail(&c->a, H_ERR_CONFLICT, "payment_not_ready",
                   "The payment's last provider call has no known outcome yet; try again "
                   "shortly.", NULL);
    return false;
  }
  return true;
}

/* Cancels a payment the provider never heard of. */
static h_result cancel_local(PGconn *conn, struct action_ctx *c) {
  struct h_provider_payment pi = {0};
  snprintf(pi.status, sizeof(pi.status), "canceled");
  snprintf(pi.cancellation_reason, sizeof(pi.cancellation_reason), "%s",
           c->reason != NULL ? c->reason : "requested_by_customer");
  h_result r = h_payment_sync_intent(conn, c->actor, &c->row, &pi, H_SYNC_ANSWER, NULL, NULL);
  return r == H_OK ? answer_current(conn, c) : r;
}

/* First transaction: checks, the attempt number, the in-doubt mark. *call says
 * whether to call the provider. */
static h_result action_begin(PGconn *conn, struct action_ctx *c, bool *call) {
  *call = false;
  h_result r = h_payment_repo_lock(conn, c->id, c->owner, &c->row);
  if (r == H_ERR_NOT_FOUND) {
    h_payment_fail(&c->a, r, "not_found", "No such payment.", NULL);
    return H_OK;
  }
  if (r != H_OK || !(c->cancel ? cancel_allowed(c) : confirm_allowed(conn, c, &r))) {
    return r;
  }
  h_provider_init_named(&c->prov, c->app->cfg, c->row.provider, c->actor->request_id);
  if (c->cancel && c->row.pi_id[0] == '\0') {
    return cancel_local(conn, c);
  }
  int attempt = c->row.confirm_attempts;
  if (!c->cancel && (!c->row.needs_reconciliation || attempt == 0)) {
    attempt++; /* a new confirmation; one in doubt is retried under its own key */
  }
  snprintf(c->key, sizeof(c->key),
           c->cancel ? "herald-payment-%s-cancel" : "herald-payment-%s-confirm-%d", c->row.id,
           attempt);
  json_t *d = json_pack("{s:s?, s:s?}", "payment_method", c->method[0] ? c->method : NULL,
                        "reason", c->reason);
  r = h_audit_write(conn, c->actor, c->cancel ? "payment.cancel_requested"
                                              : "payment.confirm_requested",
                    "payment", c->row.id, d, false);
  json_decref(d);
  c->was_in_doubt = c->row.needs_reconciliation;
  if (r == H_OK) {
    r = h_payment_repo_mark_in_doubt(conn, c->row.id, attempt,
                                     c->method[0] != '\0' ? c->method : NULL);
  }
  *call = r == H_OK;
  return r;
}

/* After an answer the provider refused for the intent's state: fetch, apply, answer
 * with the payment when it moved on, else 422. */
static h_result settle_by_fetch(PGconn *conn, struct action_ctx *c) {
  struct h_provider_payment pi = {0};
  h_result r = c->prov.ops->payment_fetch(&c->prov, c->row.pi_id, &pi, NULL);
  if (r == H_OK) {
    r = h_payment_sync_intent(conn, c->actor, &c->row, &pi, H_SYNC_FETCH, &c->notices, NULL);
  } else {
    struct h_payment_update u = {.in_doubt = true};
    h_payment_fail_provider_down(&c->a, r, "checking the payment");
    r = h_payment_repo_apply(conn, c->row.id, &u);
    h_provider_payment_clear(&pi);
    return r;
  }
  h_provider_payment_clear(&pi);
  bool moved_on = !c->cancel && (strcmp(c->row.status, "succeeded") == 0 ||
                                 strcmp(c->row.status, "processing") == 0);
  if (r == H_OK && (moved_on || (c->cancel && strcmp(c->row.status, "canceled") == 0))) {
    return answer_current(conn, c);
  }
  if (r == H_OK) {
    fail_state(&c->a, c->cancel ? "payment_not_cancelable" : "payment_not_confirmable",
                c->cancel ? "canceled" : "confirmed", c->row.status);
  }
  return r;
}

/* Second transaction: the provider's answer applied. */
static h_result action_finish(PGconn *conn, struct action_ctx *c, h_result call,
                              const struct h_provider_payment *pi,
                              const struct h_provider_error *err) {
  h_result r = h_payment_repo_lock(conn, c->row.id, NULL, &c->row);
  if (r != H_OK) {
    return r;
  }
  const char *what = c->cancel ? "canceling the payment" : "confirming the payment";
  if (call == H_OK || (call == H_ERR_PAYMENT && pi->id[0] != '\0')) {
    r = h_payment_sync_intent(conn, c->actor, &c->row, pi, H_SYNC_ANSWER, &c->notices, NULL);
    if (r == H_OK && call == H_OK) {
      return answer_current(conn, c);
    }
    h_payment_fail_declined(&c->a, err, c->row.id);
    return r;
  }
  if (call == H_ERR_INVALID && strcmp(err->code, "payment_intent_unexpected_state") == 0) {
    return settle_by_fetch(conn, c);
  }
  if (call == H_ERR_INVALID || call == H_ERR_NOT_FOUND) {
    struct h_payment_update u = {.in_doubt = false};
    h_payment_fail_provider_error(&c->a, call, err, what);
    return h_payment_repo_apply(conn, c->row.id, &u);
  }
  bool refused = call == H_ERR_RATE_LIMITED; /* nothing happened at the provider */
  bool may_charge = !c->cancel && !refused &&
                    h_payment_transition(c->row.status, "processing", false) ==
                        H_TRANSITION_APPLY;
  struct h_payment_update u = {.status = may_charge ? "processing" : NULL,
                               .in_doubt = !refused || c->was_in_doubt};
  h_payment_fail_provider_down(&c->a, call, what);
  return h_payment_apply(conn, c->actor, &c->row, &u, "no_answer");
}

static h_result action_call(struct action_ctx *c, struct h_provider_payment *pi,
                            struct h_provider_error *err) {
  if (c->cancel) {
    return c->prov.ops->payment_cancel(&c->prov, c->row.pi_id, c->reason, c->key, pi, err);
  }
  return c->prov.ops->payment_confirm(&c->prov, c->row.pi_id, c->method[0] ? c->method : NULL,
                                      c->key, pi, err);
}

/* Both transactions and the provider call between them; a database failure is returned. */
static h_result action_transactions(struct action_ctx *c) {
  PGconn *conn = NULL;
  bool call = false;
  h_result r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    r = action_begin(conn, c, &call);
  }
  r = h_db_tx_finish(c->app->db, conn, r);
  if (r == H_OK && call) {
    struct h_provider_payment pi = {0};
    struct h_provider_error err = {0};
    h_result called = action_call(c, &pi, &err);
    conn = NULL;
    r = h_db_tx_begin(c->app->db, &conn);
    if (r == H_OK) {
      r = action_finish(conn, c, called, &pi, &err);
    }
    r = h_db_tx_finish(c->app->db, conn, r);
    h_provider_payment_clear(&pi);
  }
  return r;
}

static h_result action_run(struct action_ctx *c, json_t **payment, enum h_outcome *outcome,
                           struct h_error *err) {
  memset(err, 0, sizeof(*err));
  c->a.err = err;
  *outcome = H_OUTCOME_OK;
  h_result r = H_OK;
  if (!h_provider_init(&c->prov, c->app->cfg, c->actor->request_id)) {
    h_payment_fail_disabled(&c->a);
  } else if ((r = action_transactions(c)) != H_OK) {
    h_log(H_LOG_ERROR, NULL, c->actor->request_id, "payment %s: %s",
          c->cancel ? "cancel" : "confirm", h_result_name(r));
    h_payment_fail(&c->a, r, NULL, "The payment could not be updated; try again.", NULL);
  } else {
    h_payment_notices_push(c->app, &c->notices, c->actor->request_id);
  }
  return h_payment_answer_give(&c->a, payment);
}

h_result h_payment_confirm(struct h_app *app, const struct h_actor *actor, const char *user_id,
                           const char *id, const char *payment_method, json_t **payment,
                           enum h_outcome *outcome, struct h_error *err) {
  struct action_ctx c = {.app = app, .actor = actor, .owner = user_id, .viewer = user_id,
                         .id = id, .method_input = payment_method};
  return action_run(&c, payment, outcome, err);
}

h_result h_payment_cancel(struct h_app *app, const struct h_actor *actor,
                          const struct h_payment_viewer *v, const char *id, const char *reason,
                          json_t **payment, enum h_outcome *outcome, struct h_error *err) {
  struct action_ctx c = {.app = app, .actor = actor, .owner = v->admin ? NULL : v->user_id,
                         .viewer = v->user_id, .id = id, .reason = reason, .cancel = true};
  return action_run(&c, payment, outcome, err);
}

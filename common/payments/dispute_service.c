/* dispute_service.c - provider disputes -> dispute rows, the disputed payment, audit
 * and admin e-mails; the admin list and evidence submission. */
#include "payments/dispute_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/money.h"
#include "crypto/crypto.h"
#include "notifications/outbox.h"
#include "payments/dispute_repo.h"
#include "payments/payment_internal.h"
#include "payments/payment_state.h"
#include "store/db.h"

/* The admins' e-mail about dispute row (created or closed) d of payment pay. */
static h_result notify(PGconn *conn, const struct h_dispute *row,
                       const struct h_provider_dispute *d, bool created, json_t *notices) {
  char money[64], body[1024];
  h_money_format(h_currency_find(d->currency), d->amount, money, sizeof(money));
  if (created) {
    snprintf(body, sizeof(body),
             "Payment %s is disputed (%s, %s): status %s. Submit evidence through POST "
             "/api/v1/admin/disputes/%s/evidence before the due date.",
             row->payment_id, money, d->reason, d->status, row->id);
    return h_dispute_repo_notify_admins(conn, row->id, "dispute_opened", "Payment disputed", body,
                                        notices);
  }
  snprintf(body, sizeof(body), "The dispute %s of payment %s (%s, %s) is closed: %s.", row->id,
           row->payment_id, money, d->reason, d->status);
  return h_dispute_repo_notify_admins(conn, row->id, "dispute_closed", "Dispute closed", body,
                                      notices);
}

/* Writes an audit row about dispute row with {from, to, payment_id}. */
static h_result audit(PGconn *conn, const struct h_actor *actor, const char *action,
                      const struct h_dispute *row, const char *from, const char *to) {
  json_t *d = json_pack("{s:s?, s:s, s:s}", "from", from, "to", to, "payment_id", row->payment_id);
  h_result r = h_audit_write(conn, actor, action, "dispute", row->id, d, false);
  json_decref(d);
  return r;
}

/* Moves the locked payment to disputed when it may. */
static h_result mark_payment(PGconn *conn, const struct h_actor *actor,
                             const struct h_payment *pay) {
  if (!h_payment_status_disputable(pay->status)) {
    return H_OK;
  }
  struct h_payment_update u = {.status = "disputed"};
  return h_payment_apply(conn, actor, pay, &u, "dispute");
}

/* Applies d to the existing locked row; *outcome as for h_dispute_apply_event. */
static h_result apply_existing(PGconn *conn, const struct h_actor *actor, struct h_dispute *row,
                               const struct h_provider_dispute *d, bool authoritative,
                               json_t *notices, const char **outcome) {
  enum h_transition t = h_dispute_transition(row->status, d->status, authoritative);
  if (t != H_TRANSITION_APPLY && t != H_TRANSITION_SAME) {
    *outcome = "stale";
    return H_OK;
  }
  h_result r = h_dispute_repo_apply(conn, row->id, d);
  if (r != H_OK || t == H_TRANSITION_SAME) {
    *outcome = "unchanged";
    return r;
  }
  *outcome = "applied";
  r = audit(conn, actor, "dispute.status_changed", row, row->status, d->status);
  if (r == H_OK && h_dispute_status_final(d->status)) {
    r = notify(conn, row, d, false, notices);
  }
  snprintf(row->status, sizeof(row->status), "%s", d->status);
  return r;
}

h_result h_dispute_apply_event(PGconn *conn, const struct h_provider *prov,
                               const struct h_actor *actor, const json_t *object,
                               json_t *notices, const char **outcome) {
  const struct h_dispute_ops *ops = h_dispute_ops_of(prov);
  struct h_provider_dispute d;
  *outcome = "ignored";
  if (ops == NULL || ops->dispute_read(object, &d) != H_OK || !h_dispute_status_valid(d.status)) {
    return H_OK;
  }
  struct h_payment pay;
  h_result r = h_payment_repo_lock_by_intent(conn, d.payment, NULL, &pay);
  if (r == H_ERR_NOT_FOUND) {
    *outcome = "unknown_object";
    return H_OK;
  }
  struct h_dispute row;
  bool created = false;
  if (r == H_OK) {
    r = h_dispute_repo_upsert(conn, pay.id, &d, &row, &created);
  }
  if (r == H_OK && created) {
    *outcome = "applied";
    r = audit(conn, actor, "dispute.created", &row, NULL, d.status);
    if (r == H_OK) {
      r = notify(conn, &row, &d, true, notices);
    }
    if (r == H_OK && h_dispute_status_final(d.status)) {
      r = notify(conn, &row, &d, false, notices);
    }
  } else if (r == H_OK) {
    r = apply_existing(conn, actor, &row, &d, false, notices, outcome);
  }
  return r == H_OK ? mark_payment(conn, actor, &pay) : r;
}

void h_dispute_notices_push(struct h_app *app, const json_t *notices, const char *request_id) {
  h_outbox_push_json(app, H_QUEUE_EMAIL, notices, request_id);
}

struct list_op {
  const struct h_page *page;
  const char *status;
  bool *has_more;
  json_t *made;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct list_op *o = arg;
  return h_dispute_repo_list(conn, o->page, o->status, &o->made, o->has_more);
}

h_result h_dispute_list(struct h_app *app, const struct h_page *page, const char *status,
                        json_t **data, bool *has_more) {
  struct list_op o = {page, status, has_more, NULL};
  return h_db_run_json(app->db, list_tx, &o, &o.made, data);
}

/* Evidence submission: the dispute before the provider call, and the answer after. */
struct evidence_op {
  const struct h_actor *actor;
  const char *id;
  const char *text;
  struct h_dispute row;
  struct h_provider_dispute answer;
  json_t *notices;
  json_t *made;
};

static h_result evidence_read_tx(PGconn *conn, void *arg) {
  struct evidence_op *o = arg;
  return h_dispute_repo_lock(conn, o->id, &o->row);
}

static h_result evidence_store_tx(PGconn *conn, void *arg) {
  struct evidence_op *o = arg;
  const char *outcome = NULL;
  h_result r = h_dispute_repo_lock(conn, o->id, &o->row);
  if (r == H_OK) {
    r = h_dispute_repo_evidence(conn, o->id, o->text, o->actor->id);
  }
  if (r == H_OK) {
    r = audit(conn, o->actor, "dispute.evidence_submitted", &o->row, o->row.status,
              o->answer.status);
  }
  if (r == H_OK) {
    r = apply_existing(conn, o->actor, &o->row, &o->answer, true, o->notices, &outcome);
  }
  return r == H_OK ? h_dispute_repo_get_json(conn, o->id, &o->made) : r;
}

/* Calls the provider; on failure fills err and returns its result. */
static h_result evidence_call(struct h_app *app, struct evidence_op *o, struct h_error *err) {
  struct h_provider prov;
  bool configured = h_provider_init(&prov, app->cfg, o->actor->request_id);
  const struct h_dispute_ops *ops = h_dispute_ops_of(&prov);
  if (!configured || ops == NULL) {
    return h_error_set(err, H_ERR_UNAVAILABLE, "payments_not_configured",
                       "Payments are not configured on this server.", NULL);
  }
  char digest[65], key[160];
  h_sha256_hex(o->text, strlen(o->text), digest);
  snprintf(key, sizeof(key), "herald-evidence-%s-%.32s", o->id, digest);
  struct h_provider_error perr = {0};
  h_result r = ops->evidence_submit(&prov, o->row.provider_id, o->text, key, &o->answer, &perr);
  if (r == H_ERR_INVALID || r == H_ERR_NOT_FOUND || r == H_ERR_CONFLICT) {
    return h_error_set(err, H_ERR_UNPROCESSABLE,
                       perr.code[0] != '\0' ? perr.code : "provider_rejected",
                       perr.message[0] != '\0' ? perr.message
                                               : "The payment provider refused the evidence.",
                       "text");
  }
  if (r != H_OK) {
    h_log(H_LOG_WARNING, NULL, o->actor->request_id, "dispute %s: evidence: %s", o->id,
          h_result_name(r));
    r = h_error_set(err, H_ERR_UNAVAILABLE, "provider_unavailable",
                    "The payment provider did not answer; submit the evidence again.", NULL);
    err->retry_after = true;
  }
  return r;
}

h_result h_dispute_submit_evidence(struct h_app *app, const struct h_actor *actor,
                                   const char *id, const char *text, json_t **out,
                                   struct h_error *err) {
  struct evidence_op o = {.actor = actor, .id = id, .text = text};
  *out = NULL;
  h_result r = h_db_tx(app->db, evidence_read_tx, &o);
  if (r == H_ERR_NOT_FOUND) {
    return h_error_set(err, r, "not_found", "No such dispute.", NULL);
  }
  if (r != H_OK) {
    return h_error_set(err, r, NULL, NULL, NULL);
  }
  if (!h_dispute_status_open(o.row.status)) {
    return h_error_set(err, H_ERR_CONFLICT, "dispute_not_open",
                       "Evidence can only be submitted while the dispute needs a response.",
                       NULL);
  }
  r = evidence_call(app, &o, err);
  if (r != H_OK) {
    return r;
  }
  o.notices = json_array();
  r = h_db_tx_json(app->db, evidence_store_tx, &o, &o.made, out);
  if (r == H_OK) {
    h_dispute_notices_push(app, o.notices, actor->request_id);
  } else {
    h_error_set(err, r, NULL, NULL, NULL);
  }
  json_decref(o.notices);
  return r;
}

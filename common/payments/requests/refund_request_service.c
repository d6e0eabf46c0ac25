/* refund_request_service.c - asking for, approving and rejecting refunds. */
#include "payments/requests/refund_request_service.h"

#include <stdio.h>
#include <string.h>

#include "notifications/outbox.h"
#include "payments/refund_service.h"
#include "payments/requests/refund_request_repo.h"
#include "queue/queue.h"
#include "store/db.h"
#include "store/idempotency.h"

struct op {
  const struct h_actor *actor;
  const char *id, *user_id, *payment_id, *reason, *from, *to, *refund_id;
  long long amount;
  json_t *out;
  json_t *deliveries; /* e-mail delivery ids to push after COMMIT */
  const struct h_idem *idem;     /* create: the Idempotency-Key, may be inactive */
  h_result refused;              /* create: a final refusal to store under it */
  const struct h_error *refusal;
};

/* Audits the request's new state and e-mails whom it concerns (in the open transaction). */
static h_result record(PGconn *conn, struct op *o, const char *action) {
  const char *id = json_string_value(json_object_get(o->out, "id"));
  h_result r = h_audit_write(conn, o->actor, action, "refund_request", id, o->out, false);
  if (r != H_OK) {
    return r;
  }
  char body[1400];
  const char *status = json_string_value(json_object_get(o->out, "status"));
  const char *payment = json_string_value(json_object_get(o->out, "payment_id"));
  if (strcmp(status, "pending") == 0) {
    snprintf(body, sizeof(body), "A refund of payment %s was requested: %s", payment,
             json_string_value(json_object_get(o->out, "reason")));
    json_t *data = json_pack("{ssss}", "refund_request_id", id, "payment_id", payment);
    r = h_outbox_email_admins(conn, "billing", "refund_requested", "Refund requested", body,
                              data, o->deliveries);
    json_decref(data);
    return r;
  }
  const char *why = json_string_value(json_object_get(o->out, "decision_reason"));
  snprintf(body, sizeof(body), "Your refund request for payment %s was %s%s%s.", payment, status,
           why != NULL ? ": " : "", why != NULL ? why : "");
  char delivery[37];
  json_t *data = json_pack("{ssss}", "refund_request_id", id, "payment_id", payment);
  r = h_outbox_email(conn, json_string_value(json_object_get(o->out, "user_id")), "billing",
                     strcmp(status, "approved") == 0 ? "refund_request_approved"
                                                     : "refund_request_rejected",
                     "Your refund request", body, data, delivery);
  json_decref(data);
  if (r == H_OK) {
    json_array_append_new(o->deliveries, json_string(delivery));
  }
  return r;
}

static h_result create_tx(PGconn *conn, void *arg) {
  struct op *o = arg;
  h_result r = h_refund_request_repo_insert(conn, o->payment_id, o->user_id, o->amount,
                                            o->reason, &o->out);
  r = r == H_OK ? record(conn, o, "refund_request.created") : r;
  return r == H_OK ? h_idem_complete(conn, o->idem, H_OUTCOME_CREATED, o->out) : r;
}

/* Stores a final refusal (no such payment, not refundable) under the key. */
static h_result refusal_tx(PGconn *conn, void *arg) {
  struct op *o = arg;
  return h_idem_complete_error(conn, o->idem, o->refused, o->refusal);
}

/* Moves the request from -> to; records the decision when it is one. */
static h_result move_tx(PGconn *conn, void *arg) {
  struct op *o = arg;
  json_decref(o->out);
  o->out = NULL;
  bool decision = strcmp(o->to, "approved") == 0 || strcmp(o->to, "rejected") == 0;
  h_result r = h_refund_request_repo_move(conn, o->id, o->from, o->to,
                                          decision ? o->actor->id : NULL, o->reason,
                                          o->refund_id, &o->out);
  if (r != H_OK || !decision) {
    return r;
  }
  char action[40];
  snprintf(action, sizeof(action), "refund_request.%s", o->to);
  return record(conn, o, action);
}

/* Pushes the e-mails of a committed transaction and hands the request out. */
static h_result finish(struct h_app *app, struct op *o, h_result r, json_t **request,
                       struct h_error *err) {
  size_t n = json_array_size(o->deliveries);
  for (size_t i = 0; r == H_OK && i < n; i++) {
    const char *id = json_string_value(json_array_get(o->deliveries, i));
    h_outbox_push(app, H_QUEUE_EMAIL, &id, 1, o->actor->request_id);
  }
  json_decref(o->deliveries);
  *request = r == H_OK ? o->out : NULL;
  if (r != H_OK) {
    json_decref(o->out);
  }
  if (r == H_ERR_NOT_FOUND) {
    return h_error_set(err, r, "not_found", "No such payment or pending refund request.", NULL);
  }
  if (r == H_ERR_CONFLICT) {
    return h_error_set(err, r, "refund_request_open",
                       "A refund request of this payment is already open.", NULL);
  }
  if (r == H_ERR_UNPROCESSABLE) {
    return h_error_set(err, r, "payment_not_refundable",
                       "Only a succeeded payment with that much left to refund can be.",
                       "amount");
  }
  return r == H_OK ? r : h_error_set(err, r, NULL, "The request could not be recorded.", NULL);
}

h_result h_refund_request_create(struct h_app *app, const struct h_actor *actor,
                                 const char *user_id, const char *payment_id, long long amount,
                                 const char *reason, const struct h_idem *idem,
                                 json_t **request, struct h_error *err) {
  struct op o = {.actor = actor, .user_id = user_id, .payment_id = payment_id, .amount = amount,
                 .reason = reason, .deliveries = json_array(), .idem = idem};
  memset(err, 0, sizeof(*err));
  h_result r = finish(app, &o, h_db_tx(app->db, create_tx, &o), request, err);
  bool final = r == H_ERR_NOT_FOUND || r == H_ERR_UNPROCESSABLE;
  o.refused = r;
  o.refusal = err;
  if (r != H_OK && (!final || h_db_tx(app->db, refusal_tx, &o) != H_OK)) {
    h_idem_abort(app->db, idem); /* not final (a conflict may clear): the retry runs again */
  }
  return r;
}

h_result h_refund_request_reject(struct h_app *app, const struct h_actor *actor, const char *id,
                                 const char *reason, json_t **request, struct h_error *err) {
  struct op o = {.actor = actor, .id = id, .from = "pending", .to = "rejected", .reason = reason,
                 .deliveries = json_array()};
  memset(err, 0, sizeof(*err));
  return finish(app, &o, h_db_tx(app->db, move_tx, &o), request, err);
}

h_result h_refund_request_approve(struct h_app *app, const struct h_actor *actor, const char *id,
                                  long long amount, json_t **request, struct h_error *err) {
  struct op o = {.actor = actor, .id = id, .from = "pending", .to = "approving",
                 .deliveries = json_array()};
  memset(err, 0, sizeof(*err));
  h_result r = h_db_tx(app->db, move_tx, &o); /* held: no second approval can start */
  if (r != H_OK) {
    return finish(app, &o, r, request, err);
  }
  if (amount <= 0) {
    amount = (long long)json_integer_value(json_object_get(o.out, "amount"));
  }
  struct h_idem none = {.active = false};
  json_t *refund = NULL;
  enum h_outcome outcome;
  char payment[37];
  snprintf(payment, sizeof(payment), "%s", json_string_value(json_object_get(o.out, "payment_id")));
  r = h_refund_create(app, actor, payment, amount, "requested_by_customer", &none, &refund,
                      &outcome, err);
  o.from = "approving";
  if (r != H_OK) { /* the request is open again; the refund's error is the answer */
    o.to = "pending";
    h_result back = h_db_tx(app->db, move_tx, &o);
    json_decref(o.out);
    json_decref(o.deliveries);
    *request = NULL;
    return back == H_OK ? r : back;
  }
  char refund_id[37];
  snprintf(refund_id, sizeof(refund_id), "%s", json_string_value(json_object_get(refund, "id")));
  json_decref(refund);
  o.to = "approved";
  o.refund_id = refund_id;
  return finish(app, &o, h_db_tx(app->db, move_tx, &o), request, err);
}

struct list_op {
  const char *status;
  const struct h_page *page;
  json_t *data;
  bool more;
};

static h_result list_tx(PGconn *conn, void *arg) {
  struct list_op *o = arg;
  return h_refund_request_repo_list(conn, o->status, o->page, &o->data, &o->more);
}

h_result h_refund_request_list(struct h_app *app, const char *status, const struct h_page *page,
                               json_t **data, bool *has_more) {
  struct list_op o = {.status = status, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.data;
  *has_more = o.more;
  return r;
}

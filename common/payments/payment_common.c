/* payment_common.c - answers as data (struct h_payment_answer), method resolution and
 * customers for the payment services. */
#include "payments/payment_internal.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "store/db.h"
#include "core/errors.h"
#include "core/log.h"
#include "payments/payment_method_repo.h"
#include "payments/payment_repo.h"

void h_payment_answer_ok(struct h_payment_answer *a, json_t *body) {
  json_decref(a->body);
  a->result = H_OK;
  a->body = body;
}

void h_payment_fail(struct h_payment_answer *a, h_result r, const char *code,
                    const char *message, const char *param) {
  json_decref(a->body);
  a->body = NULL;
  h_error_clear(a->err);
  a->result = h_error_set(a->err, r, code, message, param);
}

h_result h_payment_answer_give(struct h_payment_answer *a, json_t **body) {
  *body = a->result == H_OK ? a->body : NULL;
  if (a->result != H_OK) {
    json_decref(a->body);
  }
  a->body = NULL;
  return a->result;
}

h_result h_payment_answer_store(PGconn *conn, const struct h_idem *idem,
                                const struct h_payment_answer *a, enum h_outcome outcome) {
  return a->result == H_OK ? h_idem_complete(conn, idem, outcome, a->body)
                           : h_idem_complete_error(conn, idem, a->result, a->err);
}

void h_payment_fail_provider_down(struct h_payment_answer *a, h_result r, const char *what) {
  char message[256];
  snprintf(message, sizeof(message),
           "The payment provider did not answer (%s) while %s. Nothing is charged twice: "
           "retry the same request.",
           r == H_ERR_TIMEOUT ? "timeout" : r == H_ERR_RATE_LIMITED ? "rate limited" : "outage",
           what);
  h_payment_fail(a, H_ERR_UNAVAILABLE, "provider_unavailable", message, NULL);
  a->err->retry_after = true;
}

void h_payment_fail_declined(struct h_payment_answer *a, const struct h_provider_error *err,
                             const char *payment_id) {
  h_payment_fail(a, H_ERR_PAYMENT, err->code[0] != '\0' ? err->code : "card_declined",
                 err->message[0] != '\0' ? err->message : "The card was declined.",
                 "payment_method_id");
  a->err->extra = json_object();
  if (err->decline_code[0] != '\0') {
    json_object_set_new(a->err->extra, "decline_code", json_string(err->decline_code));
  }
  json_object_set_new(a->err->extra, "payment_id", json_string(payment_id));
}

void h_payment_fail_disabled(struct h_payment_answer *a) {
  h_payment_fail(a, H_ERR_UNAVAILABLE, "payments_not_configured",
                 "This payment provider is not configured on this server.", NULL);
}

void h_payment_fail_provider_error(struct h_payment_answer *a, h_result r,
                                   const struct h_provider_error *err, const char *what) {
  if (r == H_ERR_INVALID || r == H_ERR_NOT_FOUND) {
    const char *param = strcmp(err->param, "payment_method") == 0 ? "payment_method_id" : NULL;
    h_payment_fail(a, H_ERR_INVALID, err->code[0] != '\0' ? err->code : "provider_rejected",
                   err->message[0] != '\0' ? err->message
                                           : "The payment provider rejected the request.",
                   param);
    return;
  }
  h_payment_fail_provider_down(a, r, what);
}

json_t *h_payment_view(json_t *payment, const char *viewer_id) {
  const char *owner = json_string_value(json_object_get(payment, "user_id"));
  if (owner == NULL || viewer_id == NULL || strcmp(owner, viewer_id) != 0) {
    json_object_set_new(payment, "client_secret", json_null());
  }
  return payment;
}

h_result h_payment_apply(PGconn *conn, const struct h_actor *actor, const struct h_payment *row,
                         const struct h_payment_update *u, const char *why) {
  h_result r = h_payment_repo_apply(conn, row->id, u);
  if (r != H_OK || u->status == NULL || strcmp(u->status, row->status) == 0) {
    return r;
  }
  json_t *d = json_pack("{ssssss}", "from", row->status, "to", u->status, "source", why);
  r = h_audit_write(conn, actor, "payment.status_changed", "payment", row->id, d, false);
  json_decref(d);
  return r;
}

h_result h_payment_resolve_method(PGconn *conn, const char *user_id, const char *input,
                                  bool need, char out[H_PROVIDER_ID_LEN],
                                  struct h_payment_answer *fail) {
  struct h_saved_pm pm;
  out[0] = '\0';
  if (input != NULL && !h_uuid_valid(input)) {
    snprintf(out, H_PROVIDER_ID_LEN, "%s", input);
    return H_OK;
  }
  h_result r = input != NULL ? h_payment_method_repo_get(conn, input, user_id, &pm)
                             : need ? h_payment_method_repo_default(conn, user_id, &pm) : H_OK;
  if (r == H_OK && (input != NULL || need)) {
    snprintf(out, H_PROVIDER_ID_LEN, "%s", pm.provider_id);
  } else if (r == H_ERR_NOT_FOUND && input != NULL) {
    h_payment_fail(fail, H_ERR_INVALID, "invalid_payment_method",
                   "No saved payment method of yours has this id.", "payment_method_id");
    r = H_ERR_INVALID;
  } else if (r == H_ERR_NOT_FOUND) {
    h_payment_fail(fail, H_ERR_UNPROCESSABLE, "payment_method_required",
                   "Send payment_method_id or save a default payment method first.",
                   "payment_method_id");
    r = H_ERR_UNPROCESSABLE;
  } else if (r != H_OK) {
    h_payment_fail(fail, r, NULL, "The payment could not be processed; try again later.", NULL);
  }
  return r;
}

struct customer_op {
  const char *user_id;
  const char *created;
  char *out;
  char email[256];
};

static h_result customer_read_tx(PGconn *conn, void *arg) {
  struct customer_op *o = arg;
  h_result r = h_customer_repo_get(conn, o->user_id, false, o->out);
  if (r == H_ERR_NOT_FOUND) {
    o->out[0] = '\0';
    r = h_customer_repo_email(conn, o->user_id, o->email);
  }
  return r;
}

static h_result customer_store_tx(PGconn *conn, void *arg) {
  struct customer_op *o = arg;
  return h_customer_repo_insert(conn, o->user_id, o->created, o->out);
}

h_result h_payment_ensure_customer(struct h_app *app, const struct h_provider *prov,
                                   const char *user_id, char out[H_PROVIDER_ID_LEN]) {
  struct customer_op o = {.user_id = user_id, .out = out};
  h_result r = h_db_run(app->db, customer_read_tx, &o);
  if (r != H_OK || out[0] != '\0') {
    return r;
  }
  char key[80], created[H_PROVIDER_ID_LEN];
  snprintf(key, sizeof(key), "herald-customer-%s", user_id);
  struct h_provider_error err = {0};
  r = prov->ops->customer_create(prov, user_id, o.email, key, created, &err);
  if (r != H_OK) {
    h_log(H_LOG_WARNING, NULL, prov->request_id,
          "h_payment_ensure_customer: provider customer for %s: %s %s", user_id,
          h_result_name(r), err.message);
    return r == H_ERR_INVALID ? H_ERR_UNAVAILABLE : r;
  }
  o.created = created;
  return h_db_tx(app->db, customer_store_tx, &o);
}

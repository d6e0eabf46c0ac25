/* payment_sync.c - provider news -> payment and refund rows, audit and notices. */
#include "payments/payment_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "notifications/outbox.h"
#include "payments/receipt_repo.h"
#include "payments/receipt_service.h"
#include "queue/queue.h"

static const char *source_name(enum h_sync_source s) {
  return s == H_SYNC_ANSWER ? "answer" : s == H_SYNC_FETCH ? "fetch" : "webhook";
}

struct h_actor h_payment_system_actor(const char *ip, const char *request_id) {
  struct h_actor a = {.id = NULL, .type = "system", .ip = ip, .request_id = request_id};
  return a;
}

/* Writes one e-mail notice to the payment's owner and remembers its delivery id; the data
 * of its template carry payment_id, amount, currency and receipt_number (NULL: none). */
static h_result notice(PGconn *conn, const struct h_payment *row, const char *template_key,
                       const char *title, const char *body, long long amount,
                       const char *receipt_number, struct h_payment_notices *notices) {
  if (notices == NULL || notices->n == H_NOTICES_MAX) {
    return H_OK;
  }
  json_t *data = json_pack("{sssIsss:s?}", "payment_id", row->id, "amount", (json_int_t)amount,
                           "currency", row->currency, "receipt_number", receipt_number);
  h_result r = h_outbox_email(conn, row->user_id, "billing", template_key, title, body, data,
                              notices->ids[notices->n]);
  json_decref(data);
  if (r == H_OK) {
    notices->n++;
  }
  return r;
}

/* The notice, if any, that a payment moving from -> to deserves. */
static h_result status_notice(PGconn *conn, const struct h_payment *row, const char *from,
                              const struct h_provider_payment *pi, enum h_sync_source source,
                              struct h_payment_notices *notices) {
  const struct h_currency *c = h_currency_find(row->currency);
  char money[64], body[1600];
  h_money_format(c, row->amount, money, sizeof(money));
  if (strcmp(pi->status, "succeeded") == 0) {
    char number[32];
    h_result r = h_receipt_repo_assign(conn, row->id, number);
    if (r != H_OK) {
      return r;
    }
    snprintf(body, sizeof(body),
             "We received your payment of %s (%s%s%s). Receipt %s, reference: %s.", money,
             row->payment_type, row->description[0] != '\0' ? ": " : "", row->description,
             number, row->id);
    json_t *data = json_pack("{sssssIssssssss}", "payment_id", row->id, "receipt_number",
                             number, "amount", (json_int_t)row->amount, "amount_display", money,
                             "currency", row->currency, "payment_type", row->payment_type,
                             "description", row->description);
    char *subject = NULL, *text = NULL;
    r = h_payment_receipt_mail(conn, data, "Payment receipt", body, &subject, &text);
    if (r == H_OK) {
      r = notice(conn, row, "payment_receipt", subject, text, row->amount, number, notices);
    }
    free(subject);
    free(text);
    json_decref(data);
    return r;
  }
  bool failed_later = (strcmp(pi->status, "requires_payment_method") == 0 &&
                       pi->last_payment_error != NULL && source != H_SYNC_ANSWER &&
                       h_payment_status_rank(from) > 0) ||
                      strcmp(pi->status, "failed") == 0;
  if (failed_later) {
    const char *why = json_string_value(json_object_get(pi->last_payment_error, "message"));
    snprintf(body, sizeof(body),
             "Your payment of %s could not be completed%s%s. You can try again with another "
             "payment method. Reference: %s.",
             money, why != NULL ? ": " : "", why != NULL ? why : "", row->id);
    return notice(conn, row, "payment_failed", "Payment failed", body, row->amount, NULL,
                  notices);
  }
  return H_OK;
}

/* Writes the intent's fields (and, when apply, its status) to the row. */
static h_result write_intent(PGconn *conn, struct h_payment *row,
                             const struct h_provider_payment *pi, bool apply, bool current,
                             bool in_doubt) {
  struct h_payment_update u = {
    .status = apply ? pi->status : NULL,
    .pi_id = pi->id,
    .client_secret = pi->client_secret,
    .customer = pi->customer,
    .payment_method = pi->payment_method,
    .cancellation_reason = apply ? pi->cancellation_reason : NULL,
    .reference = pi->reference,
    .last_payment_error = pi->last_payment_error,
    .set_error = current, /* the error belongs to the status now shown */
    .in_doubt = in_doubt,
  };
  h_result r = h_payment_repo_apply(conn, row->id, &u);
  if (r == H_OK) {
    if (apply) {
      snprintf(row->status, sizeof(row->status), "%s", pi->status);
    }
    if (row->pi_id[0] == '\0') {
      snprintf(row->pi_id, sizeof(row->pi_id), "%s", pi->id);
    }
    row->needs_reconciliation = in_doubt;
  }
  return r;
}

h_result h_payment_sync_intent(PGconn *conn, const struct h_actor *actor, struct h_payment *row,
                               const struct h_provider_payment *pi, enum h_sync_source source,
                               struct h_payment_notices *notices, enum h_transition *outcome) {
  enum h_transition t = h_payment_transition(row->status, pi->status, source != H_SYNC_EVENT);
  if (outcome != NULL) {
    *outcome = t;
  }
  if (t == H_TRANSITION_REFETCH) {
    return H_OK;
  }
  bool apply = t == H_TRANSITION_APPLY;
  const char *final_status = apply ? pi->status : row->status;
  /* An event settles a doubt only by bringing a final status; answers always do. */
  bool in_doubt = source == H_SYNC_EVENT && row->needs_reconciliation &&
                  !h_payment_status_final(final_status);
  char from[32];
  snprintf(from, sizeof(from), "%s", row->status);
  h_result r = write_intent(conn, row, pi, apply, apply || t == H_TRANSITION_SAME, in_doubt);
  if (r != H_OK || !apply) {
    return r;
  }
  json_t *d = json_pack("{ssssss}", "from", from, "to", pi->status, "source",
                        source_name(source));
  r = h_audit_write(conn, actor, "payment.status_changed", "payment", row->id, d, false);
  json_decref(d);
  return r == H_OK ? status_notice(conn, row, from, pi, source, notices) : r;
}

/* Records a refund the provider made outside Herald (dashboard, other tools). */
static h_result insert_external(PGconn *conn, const struct h_provider_refund *obj,
                                struct h_refund *out) {
  struct h_payment pay;
  h_result r = h_payment_repo_lock_by_intent(conn, obj->payment, NULL, &pay);
  if (r != H_OK) {
    return r;
  }
  struct h_refund_new in = {
    .payment_id = pay.id,
    .currency = pay.currency,
    .reason = h_refund_reason_valid(obj->reason) ? obj->reason : NULL,
    .status = h_refund_status_valid(obj->status) ? obj->status : "pending",
    .provider_refund_id = obj->id,
    .amount = obj->amount,
  };
  return h_refund_repo_insert(conn, &in, out);
}

/* The refund notice once a refund has succeeded. */
static h_result refund_notice(PGconn *conn, const struct h_refund *refund,
                              struct h_payment_notices *notices) {
  struct h_payment pay;
  h_result r = h_payment_repo_lock(conn, refund->payment_id, NULL, &pay);
  if (r != H_OK) {
    return r;
  }
  char money[64], body[512];
  h_money_format(h_currency_find(refund->currency), refund->amount, money, sizeof(money));
  snprintf(body, sizeof(body),
           "We refunded %s of your payment %s. Depending on your bank it shows on your "
           "statement within 5 to 10 days.",
           money, pay.id);
  return notice(conn, &pay, "payment_refunded", "Refund issued", body, refund->amount, NULL,
                notices);
}

h_result h_payment_sync_refund(PGconn *conn, const struct h_actor *actor,
                               const struct h_provider_refund *obj, enum h_sync_source source,
                               struct h_payment_notices *notices, enum h_transition *outcome) {
  struct h_refund refund;
  bool inserted = false;
  h_result r = h_refund_repo_lock_by_provider(conn, obj->id, obj->herald_refund_id, &refund);
  if (r == H_ERR_NOT_FOUND) {
    r = insert_external(conn, obj, &refund);
    inserted = r == H_OK;
  }
  if (r != H_OK) {
    return r;
  }
  enum h_transition t = inserted ? H_TRANSITION_APPLY
                                 : h_refund_transition(refund.status, obj->status,
                                                       source != H_SYNC_EVENT);
  if (outcome != NULL) {
    *outcome = t;
  }
  if (t == H_TRANSITION_REFETCH) {
    return H_OK;
  }
  bool apply = t == H_TRANSITION_APPLY && !inserted;
  bool in_doubt = source == H_SYNC_EVENT && refund.needs_reconciliation &&
                  !h_refund_status_final(apply ? obj->status : refund.status);
  r = h_refund_repo_apply(conn, refund.id, apply ? obj->status : NULL, obj->id,
                          obj->failure_reason, in_doubt);
  if (r == H_OK && (apply || inserted)) {
    r = h_payment_repo_recount_refunds(conn, refund.payment_id);
    json_t *d = json_pack("{sssssssI}", "payment_id", refund.payment_id, "to", obj->status,
                          "source", source_name(source), "amount", (json_int_t)refund.amount);
    if (r == H_OK) {
      r = h_audit_write(conn, actor, inserted ? "refund.recorded" : "refund.status_changed",
                        "refund", refund.id, d, false);
    }
    json_decref(d);
  }
  if (r == H_OK && (apply || inserted) && strcmp(obj->status, "succeeded") == 0) {
    r = refund_notice(conn, &refund, notices);
  }
  return r;
}

void h_payment_notices_push(struct h_app *app, const struct h_payment_notices *notices,
                            const char *request_id) {
  if (notices == NULL || notices->n == 0) {
    return;
  }
  const char *ids[H_NOTICES_MAX];
  for (size_t i = 0; i < notices->n; i++) {
    ids[i] = notices->ids[i];
  }
  h_outbox_push(app, H_QUEUE_EMAIL, ids, notices->n, request_id);
}

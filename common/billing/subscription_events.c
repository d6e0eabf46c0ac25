/* subscription_events.c - subscription and invoice events -> subscriptions, invoices,
 * dunning notices and the cancellation after the last failed attempt. */
#include "billing/subscription_events.h"

#include <stdio.h>
#include <string.h>

#include "billing/billing_provider.h"
#include "billing/plan_repo.h"
#include "billing/subscription_repo.h"
#include "core/log.h"
#include "core/money.h"
#include "notifications/outbox.h"
#include "payments/payment_event_repo.h"
#include "store/db.h"

bool h_billing_event_type(const char *type) {
  static const char *const types[] = {"customer.subscription.created",
                                      "customer.subscription.updated",
                                      "customer.subscription.deleted", "invoice.paid",
                                      "invoice.payment_failed", NULL};
  for (size_t i = 0; type != NULL && types[i] != NULL; i++) {
    if (strcmp(types[i], type) == 0) {
      return true;
    }
  }
  return false;
}

struct event_ctx {
  struct h_app *app;
  const struct h_provider *prov;
  const struct h_billing_ops *ops;
  const struct h_actor *actor;
  const char *id, *type, *raw;
  const json_t *object;
  long long created;
  bool is_invoice, parsed, duplicate;
  struct h_provider_invoice inv;
  struct h_provider_subscription sub; /* the provider's current subscription */
  const char *outcome;
  json_t *notices;
};

static bool ended(const char *status) {
  return strcmp(status, "canceled") == 0 || strcmp(status, "incomplete_expired") == 0;
}

/* Reads the object; fetches the subscription's current state (deleted: the object is it). */
static h_result gather(struct event_ctx *c) {
  char sub_id[H_PROVIDER_ID_LEN] = "";
  c->is_invoice = strncmp(c->type, "invoice.", 8) == 0;
  if (c->is_invoice ? c->ops->invoice_read(c->object, &c->inv) != H_OK
                    : c->ops->subscription_read(c->object, &c->sub) != H_OK) {
    return H_OK; /* not parsed: recorded as ignored */
  }
  snprintf(sub_id, sizeof(sub_id), "%s", c->is_invoice ? c->inv.subscription : c->sub.id);
  c->parsed = true;
  if (strcmp(c->type, "customer.subscription.deleted") == 0) {
    return H_OK;
  }
  struct h_provider_subscription fetched;
  h_result r = c->ops->subscription_fetch(c->prov, sub_id, &fetched, NULL);
  if (r == H_OK) {
    c->sub = fetched;
  } else if (r == H_ERR_NOT_FOUND) {
    c->parsed = !c->is_invoice; /* gone at the provider: the object is all there is */
    r = H_OK;
  }
  return r;
}

/* After the last allowed failed attempt: cancels the subscription at the provider. */
static h_result dunning_cancel(struct event_ctx *c) {
  bool failed = c->parsed && strcmp(c->type, "invoice.payment_failed") == 0;
  if (!failed || c->inv.attempt_count < c->app->cfg->billing_max_retries || ended(c->sub.status)) {
    return H_OK;
  }
  char key[H_PROVIDER_ID_LEN + 32];
  snprintf(key, sizeof(key), "herald-dunning-%s", c->sub.id);
  struct h_provider_subscription answer;
  h_result r = c->ops->subscription_cancel(c->prov, c->sub.id, key, &answer, NULL);
  if (r == H_OK) {
    c->sub = answer;
  }
  return r;
}

/* An e-mail to the subscriber, its delivery id kept for after COMMIT. */
static h_result notify(PGconn *conn, struct event_ctx *c, const struct h_subscription *row,
                       const char *key, const char *title, const char *body) {
  char delivery[37];
  json_t *data = json_pack("{ss}", "subscription_id", row->id);
  h_result r = h_outbox_email(conn, row->user_id, "billing", key, title, body, data, delivery);
  json_decref(data);
  if (r == H_OK) {
    json_array_append_new(c->notices, json_string(delivery));
  }
  return r;
}

/* The invoice: recorded, and a failed attempt told to the user once. */
static h_result apply_invoice(PGconn *conn, struct event_ctx *c, const struct h_subscription *row) {
  int notified = 0;
  h_result r = h_subscription_repo_invoice(conn, row->id, &c->inv, &notified);
  if (r != H_OK || strcmp(c->type, "invoice.payment_failed") != 0 ||
      c->inv.attempt_count <= notified) {
    return r;
  }
  int max = c->app->cfg->billing_max_retries;
  char money[64], body[512];
  h_money_format(h_currency_find(c->inv.currency), c->inv.amount_due, money, sizeof(money));
  snprintf(body, sizeof(body),
           c->inv.attempt_count < max
               ? "We could not collect %s for your subscription (attempt %d of %d). We will try "
                 "again; you can update your payment method meanwhile."
               : "We could not collect %s for your subscription (attempt %d of %d). The "
                 "subscription is canceled.",
           money, c->inv.attempt_count, max);
  r = notify(conn, c, row, "subscription_payment_failed", "Subscription payment failed", body);
  if (r == H_OK) {
    r = h_subscription_repo_invoice_notified(conn, c->inv.id, c->inv.attempt_count);
  }
  return r == H_OK ? h_subscription_repo_set_failed(conn, row->id, c->inv.attempt_count) : r;
}

/* The subscription's current state onto the locked row (never out of an ended one). */
static h_result apply_sub(PGconn *conn, struct event_ctx *c, const struct h_subscription *row) {
  if (ended(row->status) || strcmp(c->sub.status, "pending") == 0) {
    c->outcome = ended(row->status) ? "stale" : c->outcome;
    return H_OK;
  }
  char plan_id[37];
  bool known = h_plan_repo_by_price(conn, c->sub.price, plan_id) == H_OK;
  h_result r = h_subscription_repo_apply(conn, row->id, &c->sub, known ? plan_id : NULL);
  if (r != H_OK || strcmp(row->status, c->sub.status) == 0) {
    return r;
  }
  json_t *d = json_pack("{ssss}", "from", row->status, "to", c->sub.status);
  r = h_audit_write(conn, c->actor, "subscription.status_changed", "subscription", row->id, d,
                    false);
  json_decref(d);
  if (r == H_OK && strcmp(c->sub.status, "canceled") == 0) {
    r = notify(conn, c, row, "subscription_canceled", "Subscription canceled",
               "Your subscription is canceled. You will not be charged again.");
  }
  return r;
}

static h_result apply_tx(PGconn *conn, void *arg) {
  struct event_ctx *c = arg;
  const char *object_id = json_string_value(json_object_get(c->object, "id"));
  h_result r = h_payment_event_claim(conn, c->id, c->type, object_id, c->created, c->raw,
                                     &c->duplicate);
  if (r != H_OK || c->duplicate) {
    return r;
  }
  struct h_subscription row;
  c->outcome = "applied";
  if (!c->parsed) {
    c->outcome = "ignored";
  } else if ((r = h_subscription_repo_lock_by_provider(conn, c->sub.id,
                                                       c->sub.herald_subscription_id, &row)) ==
             H_ERR_NOT_FOUND) {
    c->outcome = "unknown_object";
    r = H_OK;
  } else if (r == H_OK) {
    r = apply_sub(conn, c, &row);
    if (r == H_OK && c->is_invoice) {
      r = apply_invoice(conn, c, &row);
    }
  }
  return r == H_OK ? h_payment_event_finish(conn, c->id, c->outcome) : r;
}

h_result h_billing_event_apply(struct h_app *app, const struct h_provider *prov,
                               const struct h_actor *actor, const json_t *event,
                               const char *raw, json_t **receipt, struct h_error *err) {
  struct event_ctx c = {.app = app, .prov = prov, .actor = actor, .raw = raw,
                        .ops = h_billing_ops_of(prov), .outcome = "ignored"};
  *receipt = NULL;
  c.id = json_string_value(json_object_get(event, "id"));
  c.type = json_string_value(json_object_get(event, "type"));
  c.object = json_object_get(json_object_get(event, "data"), "object");
  c.created = (long long)json_integer_value(json_object_get(event, "created"));
  h_result r = c.ops != NULL ? gather(&c) : H_ERR_UNAVAILABLE;
  if (r == H_OK) {
    r = dunning_cancel(&c);
  }
  c.notices = json_array();
  if (r == H_OK) {
    r = h_db_tx(app->db, apply_tx, &c);
  }
  if (r == H_OK) {
    h_outbox_push_json(app, H_QUEUE_EMAIL, c.notices, actor->request_id);
    *receipt = json_pack("{sbsbss}", "received", 1, "duplicate", c.duplicate, "outcome",
                         c.duplicate ? "duplicate" : c.outcome);
  } else {
    h_log(H_LOG_WARNING, NULL, actor->request_id, "webhook %s (%s): %s; the provider will retry",
          c.id, c.type, h_result_name(r));
    h_error_set(err, H_ERR_UNAVAILABLE, NULL,
                "The event could not be applied now; deliver it again later.", NULL);
    r = H_ERR_UNAVAILABLE;
  }
  json_decref(c.notices);
  return r;
}

struct sync_op {
  struct event_ctx *c;
  const char *id;
  struct h_subscription row;
  json_t *made;
};

static h_result sync_read_tx(PGconn *conn, void *arg) {
  struct sync_op *o = arg;
  return h_subscription_repo_lock(conn, o->id, NULL, &o->row);
}

static h_result sync_store_tx(PGconn *conn, void *arg) {
  struct sync_op *o = arg;
  h_result r = h_subscription_repo_lock(conn, o->id, NULL, &o->row);
  if (r == H_OK) {
    r = apply_sub(conn, o->c, &o->row);
  }
  return r == H_OK ? h_subscription_repo_get_json(conn, o->id, &o->made) : r;
}

h_result h_subscription_sync(struct h_app *app, const struct h_actor *actor, const char *id,
                             json_t **out, struct h_error *err) {
  struct h_provider prov;
  bool configured = h_provider_init(&prov, app->cfg, actor->request_id);
  struct event_ctx c = {.app = app, .prov = &prov, .actor = actor, .type = "sync",
                        .ops = configured ? h_billing_ops_of(&prov) : NULL};
  struct sync_op o = {.c = &c, .id = id};
  *out = NULL;
  if (c.ops == NULL) {
    return h_error_set(err, H_ERR_UNAVAILABLE, "payments_not_configured",
                       "Payments are not configured on this server.", NULL);
  }
  h_result r = h_db_tx(app->db, sync_read_tx, &o);
  if (r != H_OK) {
    return h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                       r == H_ERR_NOT_FOUND ? "No such subscription." : NULL, NULL);
  }
  if (o.row.provider_id[0] == '\0') {
    return h_error_set(err, H_ERR_CONFLICT, "not_started",
                       "The subscription was never made at the provider.", NULL);
  }
  r = c.ops->subscription_fetch(&prov, o.row.provider_id, &c.sub, NULL);
  if (r != H_OK) {
    h_error_set(err, H_ERR_UNAVAILABLE, "provider_unavailable",
                "The payment provider did not answer; try again.", NULL);
    err->retry_after = true;
    return H_ERR_UNAVAILABLE;
  }
  c.notices = json_array();
  r = h_db_tx_json(app->db, sync_store_tx, &o, &o.made, out);
  if (r == H_OK) {
    h_outbox_push_json(app, H_QUEUE_EMAIL, c.notices, actor->request_id);
  } else {
    h_error_set(err, r, NULL, NULL, NULL);
  }
  json_decref(c.notices);
  return r;
}

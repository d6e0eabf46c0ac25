/* reconcile_sync.c - settling payments and refunds in doubt from the provider. */
#include "reconcile/reconcile.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "notifications/outbox.h"
#include "queue/queue.h"
#include "payments/payment_internal.h"
#include "payments/payment_sync.h"
#include "reconcile/reconcile_repo.h"

static const int sync_delays[H_SYNC_STEPS] = {60, 300, 300, 300, 300, 300, 3600, 86400};

int h_reconcile_sync_delay(int attempts) {
  return attempts >= 0 && attempts < H_SYNC_STEPS ? sync_delays[attempts] : -1;
}

static bool payment_unsettled(const struct h_payment *p) {
  return p->needs_reconciliation || strcmp(p->status, "processing") == 0 ||
         strcmp(p->status, "requires_action") == 0;
}

static bool refund_unsettled(const struct h_refund *r) {
  return r->needs_reconciliation || strcmp(r->status, "pending") == 0 ||
         strcmp(r->status, "requires_action") == 0;
}

/* Advances the schedule of a row still unsettled after a sync; at the end marks it
 * for review and notifies the admins. */
static h_result schedule_next(PGconn *conn, const char *table, const char *id, bool force,
                              json_t *notices, enum h_sync_outcome *outcome) {
  int attempts = 0;
  h_result r = h_reconcile_repo_sync_attempts(conn, table, id, &attempts);
  if (r != H_OK) {
    return r;
  }
  int delay = force ? h_reconcile_sync_delay(attempts > 0 ? attempts - 1 : 0)
                    : h_reconcile_sync_delay(attempts + 1);
  if (delay >= 0) {
    *outcome = H_SYNC_PENDING;
    return h_reconcile_repo_schedule(conn, table, id, force ? attempts : attempts + 1, delay);
  }
  *outcome = H_SYNC_REVIEW;
  r = h_reconcile_repo_mark_review(conn, table, id);
  if (r == H_OK) {
    char body[512];
    snprintf(body, sizeof(body),
             "The %s %s is still unsettled after %d syncs with the payment provider and "
             "needs a review.",
             strcmp(table, "payments") == 0 ? "payment" : "refund", id, H_SYNC_STEPS);
    r = h_reconcile_repo_notify_admins(conn, "reconcile_review", "Payment needs review", body,
                                       notices);
  }
  return r;
}

/* Retries the create of a payment whose first answer was lost: same key, same
 * parameters (the provider replays its first answer, or creates it now). */
static h_result retry_create(struct h_app *app, const struct h_provider *prov,
                             const struct h_payment *p, struct h_provider_payment *pi,
                             struct h_provider_error *err) {
  json_t *meta = NULL;
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_reconcile_repo_payment_metadata(conn, p->id, &meta);
    h_db_release(app->db, conn);
  }
  if (r != H_OK) {
    return r;
  }
  char key[96];
  snprintf(key, sizeof(key), "herald-payment-%s-create", p->id);
  struct h_provider_payment_params params = {
    .payment_id = p->id, .user_id = p->user_id, .payment_type = p->payment_type,
    .currency = p->currency, .description = p->description[0] != '\0' ? p->description : NULL,
    .customer = p->customer[0] != '\0' ? p->customer : NULL,
    .payment_method = p->payment_method[0] != '\0' ? p->payment_method : NULL,
    .metadata = json_object_size(meta) > 0 ? meta : NULL, .amount = p->amount,
    .confirm = strcmp(p->status, "processing") == 0,
  };
  r = prov->ops->payment_create(prov, &params, key, pi, err);
  json_decref(meta);
  return r;
}

struct pay_apply {
  const char *id;
  bool force;
  h_result call;
  struct h_provider_payment *pi;
  struct h_payment_notices notices;
  json_t *admin_notices;
  enum h_sync_outcome outcome;
};

static h_result pay_apply_tx(PGconn *conn, void *arg) {
  struct pay_apply *a = arg;
  struct h_payment row;
  h_result r = h_payment_repo_lock(conn, a->id, NULL, &row);
  if (r != H_OK) {
    return r;
  }
  struct h_actor actor = h_payment_system_actor(NULL, "reconcile");
  bool have = a->call == H_OK || (a->call == H_ERR_PAYMENT && a->pi->id[0] != '\0');
  if (have) {
    r = h_payment_sync_intent(conn, &actor, &row, a->pi, H_SYNC_FETCH, &a->notices, NULL);
  }
  if (r != H_OK) {
    return r;
  }
  if (!payment_unsettled(&row)) {
    a->outcome = H_SYNC_SETTLED;
    return h_reconcile_repo_settled(conn, "payments", a->id);
  }
  return schedule_next(conn, "payments", a->id, a->force, a->admin_notices, &a->outcome);
}

/* Pushes the e-mails written in a committed transaction. */
static void push_notices(struct h_app *app, const struct h_payment_notices *n, json_t *admins) {
  h_payment_notices_push(app, n, "reconcile");
  size_t count = json_array_size(admins);
  for (size_t i = 0; i < count; i++) {
    const char *id = json_string_value(json_array_get(admins, i));
    h_outbox_push(app, H_QUEUE_EMAIL, &id, 1, "reconcile");
  }
}

h_result h_reconcile_sync_payment(struct h_app *app, const char *id, bool force,
                                  enum h_sync_outcome *outcome) {
  struct h_provider prov;
  struct h_payment p;
  PGconn *conn = NULL;
  h_result r = h_db_tx_begin(app->db, &conn);
  if (r == H_OK) {
    r = h_payment_repo_lock(conn, id, NULL, &p);
  }
  r = h_db_tx_finish(app->db, conn, r);
  if (r != H_OK) {
    return r;
  }
  if (!h_provider_init_named(&prov, app->cfg, p.provider, "reconcile")) {
    return H_ERR_UNAVAILABLE;
  }
  struct h_provider_payment pi = {0};
  struct h_provider_error err = {0};
  /* A create whose answer was lost is sent again only where the provider replays it. */
  h_result call = p.pi_id[0] != '\0'          ? prov.ops->payment_fetch(&prov, p.pi_id, &pi, &err)
                  : prov.ops->create_replayable ? retry_create(app, &prov, &p, &pi, &err)
                                               : H_ERR_UNAVAILABLE;
  if (call != H_OK) {
    h_log(H_LOG_WARNING, "event", "reconcile", "payment %s sync: provider call failed (%s)", id,
          h_result_name(call));
  }
  struct pay_apply a = {.id = id, .force = force, .call = call, .pi = &pi,
                        .admin_notices = json_array()};
  r = h_db_tx(app->db, pay_apply_tx, &a);
  if (r == H_OK) {
    push_notices(app, &a.notices, a.admin_notices);
    if (outcome != NULL) {
      *outcome = a.outcome;
    }
  }
  json_decref(a.admin_notices);
  h_provider_payment_clear(&pi);
  return r;
}

struct refund_apply {
  const char *id;
  const char *provider_id; /* "" until the provider made it */
  bool force;
  h_result call;
  const struct h_provider_refund *obj;
  struct h_payment_notices notices;
  json_t *admin_notices;
  enum h_sync_outcome outcome;
};

static h_result refund_apply_tx(PGconn *conn, void *arg) {
  struct refund_apply *a = arg;
  struct h_actor actor = h_payment_system_actor(NULL, "reconcile");
  h_result r = H_OK;
  if (a->call == H_OK) {
    r = h_payment_sync_refund(conn, &actor, a->obj, H_SYNC_FETCH, &a->notices, NULL);
  }
  struct h_refund row;
  if (r == H_OK) {
    r = h_refund_repo_lock_by_provider(conn, a->provider_id, a->id, &row);
  }
  if (r != H_OK) {
    return r;
  }
  if (!refund_unsettled(&row)) {
    a->outcome = H_SYNC_SETTLED;
    return h_reconcile_repo_settled(conn, "refunds", a->id);
  }
  return schedule_next(conn, "refunds", a->id, a->force, a->admin_notices, &a->outcome);
}

h_result h_reconcile_sync_refund(struct h_app *app, const char *id, bool force,
                                 enum h_sync_outcome *outcome) {
  struct h_provider prov;
  struct h_reconcile_refund_src src;
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_reconcile_repo_refund_source(conn, id, &src);
    h_db_release(app->db, conn);
  }
  if (r != H_OK) {
    return r;
  }
  if (!h_provider_init_named(&prov, app->cfg, src.provider, "reconcile")) {
    return H_ERR_UNAVAILABLE;
  }
  struct h_provider_refund obj = {0};
  struct h_provider_error err = {0};
  char key[96];
  snprintf(key, sizeof(key), "herald-refund-%s", id);
  h_result call = src.provider_refund_id[0] != '\0'
                      ? prov.ops->refund_fetch(&prov, src.provider_refund_id, &obj, &err)
                      : prov.ops->refund_create(&prov, src.pi_id, src.amount,
                                                src.reason[0] != '\0' ? src.reason : NULL, id,
                                                key, &obj, &err);
  struct refund_apply a = {.id = id, .provider_id = call == H_OK ? obj.id : src.provider_refund_id,
                           .force = force, .call = call, .obj = &obj,
                           .admin_notices = json_array()};
  r = h_db_tx(app->db, refund_apply_tx, &a);
  if (r == H_OK) {
    push_notices(app, &a.notices, a.admin_notices);
    if (outcome != NULL) {
      *outcome = a.outcome;
    }
  }
  json_decref(a.admin_notices);
  return r;
}

h_result h_reconcile_sync_due(struct h_app *app, int limit, int *done) {
  *done = 0;
  for (int i = 0; i < limit; i++) {
    char id[37], table[16];
    PGconn *conn = NULL;
    h_result r = h_db_acquire(app->db, &conn);
    if (r == H_OK) {
      r = h_reconcile_repo_claim_due(conn, table, id);
      h_db_release(app->db, conn);
    }
    if (r == H_ERR_NOT_FOUND) {
      return H_OK;
    }
    if (r != H_OK) {
      return r;
    }
    r = strcmp(table, "payments") == 0 ? h_reconcile_sync_payment(app, id, false, NULL)
                                       : h_reconcile_sync_refund(app, id, false, NULL);
    if (r != H_OK && r != H_ERR_NOT_FOUND) {
      h_log(H_LOG_WARNING, "event", "reconcile", "%s %s sync failed (%s)", table, id,
            h_result_name(r));
    }
    (*done)++;
  }
  return H_OK;
}

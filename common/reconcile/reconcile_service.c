/* reconcile_service.c - the admin API of reconciliation. */
#include "reconcile/reconcile_service.h"

#include <string.h>

#include "store/db.h"
#include "payments/payment_repo.h"
#include "reconcile/reconcile_jobs.h"
#include "reconcile/reconcile_repo.h"

struct request_ctx {
  const struct h_actor *actor;
  time_t since, until;
  const char *payment_id;
  char run_id[37];
  char job_id[37];
};

static h_result request_tx(PGconn *conn, void *arg) {
  struct request_ctx *c = arg;
  h_result r = h_reconcile_repo_run_insert(conn, c->since, c->until, c->actor->id, c->run_id);
  if (r == H_OK) {
    r = h_reconcile_jobs_enqueue(conn, "ledger_run", c->run_id, c->job_id);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, c->actor, "reconciliation.requested", "reconciliation_run",
                      c->run_id, NULL, false);
  }
  return r;
}

h_result h_reconcile_request_run(struct h_app *app, const struct h_actor *actor, time_t since,
                                 time_t until, json_t **run) {
  struct request_ctx c = {.actor = actor, .since = since, .until = until};
  h_result r = h_db_tx(app->db, request_tx, &c);
  if (r != H_OK) {
    return r;
  }
  const char *ids[] = {c.job_id};
  h_reconcile_jobs_push(app, ids, 1);
  return h_reconcile_get(app, c.run_id, NULL, run);
}

static h_result list_tx(PGconn *conn, void *arg) {
  void **a = arg;
  return h_reconcile_repo_run_list(conn, a[0], a[1], a[2]);
}

h_result h_reconcile_list(struct h_app *app, const struct h_page *page, json_t **data,
                          bool *has_more) {
  void *a[3] = {(void *)page, data, has_more};
  return h_db_run(app->db, list_tx, a);
}

static h_result get_tx(PGconn *conn, void *arg) {
  void **a = arg;
  return h_reconcile_repo_run_get_json(conn, a[0], a[1], a[2]);
}

h_result h_reconcile_get(struct h_app *app, const char *id, const char *kind, json_t **out) {
  void *a[3] = {(void *)id, (void *)kind, out};
  *out = NULL;
  return h_db_run(app->db, get_tx, a);
}

static h_result sync_tx(PGconn *conn, void *arg) {
  struct request_ctx *c = arg;
  struct h_payment p;
  h_result r = h_payment_repo_lock(conn, c->payment_id, NULL, &p);
  if (r == H_OK) {
    r = h_reconcile_jobs_enqueue(conn, "payment_sync", c->payment_id, c->job_id);
  }
  if (r == H_OK) {
    r = h_audit_write(conn, c->actor, "payment.sync_requested", "payment", c->payment_id, NULL,
                      false);
  }
  return r;
}

h_result h_reconcile_queue_payment_sync(struct h_app *app, const struct h_actor *actor,
                                        const char *payment_id, json_t **job) {
  struct request_ctx c = {.actor = actor, .payment_id = payment_id};
  h_result r = h_db_tx(app->db, sync_tx, &c);
  if (r != H_OK) {
    return r;
  }
  const char *ids[] = {c.job_id};
  h_reconcile_jobs_push(app, ids, 1);
  *job = json_pack("{ssssssssss}", "object", "reconcile_job", "id", c.job_id, "kind",
                   "payment_sync", "subject_id", payment_id, "status", "queued");
  return H_OK;
}

/* reconcile_run.c - ledger runs: recording what the comparison found, repairing
 * what the forward-only rules allow, notifying the admins; and housekeeping. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/db.h"
#include "core/log.h"
#include "notifications/outbox.h"
#include "payments/dispute_repo.h"
#include "payments/payment_state.h"
#include "reconcile/reconcile.h"
#include "reconcile/reconcile_repo.h"

/* In reconcile_ledger.c. */
h_result h_reconcile_collect(struct h_app *app, time_t since, time_t until, json_t *items,
                             struct h_ledger_totals *t);

struct write_ctx {
  const char *run_id;
  time_t since, until;
  const json_t *items;
  struct h_ledger_totals *t;
  json_t *notices;
};

static h_result write_tx(PGconn *conn, void *arg) {
  struct write_ctx *c = arg;
  size_t i;
  json_t *item;
  h_result r = H_OK;
  json_array_foreach(c->items, i, item) {
    bool added = false;
    r = h_reconcile_repo_item_insert(conn, c->run_id, c->since, c->until, item, &added);
    if (r != H_OK) {
      return r;
    }
    c->t->added += added ? 1 : 0;
  }
  json_t *totals = json_pack("{sisisIsIsisi}", "local_count", c->t->local_count,
                             "provider_count", c->t->provider_count, "local_amount",
                             (json_int_t)c->t->local_amount, "provider_amount",
                             (json_int_t)c->t->provider_amount, "items_found", c->t->found,
                             "items_new", c->t->added);
  json_t *disputes = NULL;
  r = h_dispute_repo_period(conn, c->since, c->until, &disputes);
  if (r == H_OK) {
    json_object_set_new(totals, "disputes", disputes);
    r = h_reconcile_repo_run_finish(conn, c->run_id, totals);
  }
  if (r == H_OK) {
    char body[640];
    snprintf(body, sizeof(body),
             "Reconciliation run %s finished: %d payments and refunds here, %d at the provider, "
             "%d differences (%d new); disputes: %lld opened, %lld won, %lld lost.",
             c->run_id, c->t->local_count, c->t->provider_count, c->t->found, c->t->added,
             (long long)json_integer_value(json_object_get(disputes, "opened")),
             (long long)json_integer_value(json_object_get(disputes, "won")),
             (long long)json_integer_value(json_object_get(disputes, "lost")));
    r = h_reconcile_repo_notify_admins(conn, "reconcile_run", "Reconciliation finished", body,
                                       c->notices);
  }
  json_decref(totals);
  return r;
}

/* Status differences of objects not yet final here are synced (forward only). */
static void repair(struct h_app *app, const json_t *items) {
  size_t i;
  json_t *item;
  json_array_foreach(items, i, item) {
    const json_t *local = json_object_get(item, "local");
    const char *kind = json_string_value(json_object_get(item, "kind"));
    const char *type = json_string_value(json_object_get(item, "object_type"));
    const char *status = json_string_value(json_object_get(local, "status"));
    const char *id = json_string_value(json_object_get(local, "id"));
    if (strcmp(kind, "status_mismatch") != 0 || id == NULL || status == NULL) {
      continue;
    }
    bool payment = strcmp(type, "payment") == 0;
    if (payment && !h_payment_status_final(status)) {
      (void)h_reconcile_sync_payment(app, id, true, NULL);
    } else if (!payment && !h_refund_status_final(status)) {
      (void)h_reconcile_sync_refund(app, id, true, NULL);
    }
  }
}

h_result h_reconcile_ledger(struct h_app *app, const char *run_id, time_t since, time_t until,
                            struct h_ledger_totals *out, json_t **items_out) {
  memset(out, 0, sizeof(*out));
  json_t *items = json_array();
  h_result r = h_reconcile_collect(app, since, until, items, out);
  if (r == H_OK && run_id != NULL) {
    struct write_ctx c = {.run_id = run_id, .since = since, .until = until, .items = items,
                          .t = out, .notices = json_array()};
    r = h_db_tx(app->db, write_tx, &c);
    for (size_t i = 0; r == H_OK && i < json_array_size(c.notices); i++) {
      const char *id = json_string_value(json_array_get(c.notices, i));
      h_outbox_push(app, H_QUEUE_EMAIL, &id, 1, "reconcile");
    }
    json_decref(c.notices);
    if (r == H_OK) {
      repair(app, items);
    }
  }
  if (items_out != NULL && r == H_OK) {
    *items_out = json_incref(items);
  }
  json_decref(items);
  return r;
}

h_result h_reconcile_run_create(struct h_app *app, time_t since, time_t until,
                                const char *requested_by, char run_id[37]) {
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_reconcile_repo_run_insert(conn, since, until, requested_by, run_id);
    h_db_release(app->db, conn);
  }
  return r;
}

struct start_ctx {
  const char *run_id;
  time_t since, until;
};

/* Moves a queued (or abandoned running) run to running. */
static h_result start_tx(PGconn *conn, void *arg) {
  struct start_ctx *c = arg;
  char status[16];
  h_result r = h_reconcile_repo_run_period(conn, c->run_id, &c->since, &c->until, status);
  if (r == H_OK && strcmp(status, "succeeded") == 0) {
    return H_ERR_CONFLICT;
  }
  return r == H_OK ? h_reconcile_repo_run_status(conn, c->run_id, "running", NULL) : r;
}

static h_result fail_tx(PGconn *conn, void *arg) {
  const char **a = arg;
  return h_reconcile_repo_run_status(conn, a[0], "failed", a[1]);
}

h_result h_reconcile_run_execute(struct h_app *app, const char *run_id,
                                 struct h_ledger_totals *out) {
  struct start_ctx c = {.run_id = run_id};
  h_result r = h_db_tx(app->db, start_tx, &c);
  if (r != H_OK) {
    return r;
  }
  r = h_reconcile_ledger(app, run_id, c.since, c.until, out, NULL);
  if (r != H_OK) {
    const char *a[2] = {run_id, h_result_name(r)};
    (void)h_db_tx(app->db, fail_tx, a);
  }
  return r;
}

h_result h_reconcile_housekeeping(struct h_app *app, int audit_days, int event_days,
                                  long *deleted, long *notifications) {
  int keep = app->cfg->notification_retention_days;
  int ages[5] = {audit_days, event_days, app->cfg->idempotency_ttl_s, 0, keep};
  *deleted = 0;
  *notifications = 0;
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  for (int what = 0; r == H_OK && what < (keep > 0 ? 5 : 4); what++) {
    long n = 0;
    do { /* each batch its own short transaction: no long lock */
      r = h_reconcile_repo_purge(conn, what, ages[what], 1000, &n);
      *deleted += n;
      *notifications += what == 4 ? n : 0;
    } while (r == H_OK && n > 0 && (what == 4 || n == 1000));
  }
  if (conn != NULL) {
    h_db_release(app->db, conn);
  }
  return r;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", UTC. */
bool h_reconcile_parse_time(const char *s, time_t *out) {
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
  size_t len = s != NULL ? strlen(s) : 0;
  if (len == 10) {
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
      return false;
    }
  } else if (len == 20) {
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 20) {
      return false;
    }
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 ||
      h < 0 || mi < 0 || sec < 0) {
    return false;
  }
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                  .tm_min = mi, .tm_sec = sec};
  time_t t = timegm(&tm);
  struct tm back;
  gmtime_r(&t, &back);
  if (back.tm_mday != d) {
    return false; /* 2026-02-31 */
  }
  *out = t;
  return true;
}

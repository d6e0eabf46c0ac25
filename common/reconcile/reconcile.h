/* reconcile.h - reconciliation with the payment provider (issue 7): settling
 * payments and refunds left in doubt, the ledger comparison of a period, and
 * housekeeping. Used by herald-reconcile (workers/reconcile) and the admin API.
 *
 * Sync schedule of an unsettled payment or refund (processing, requires_action,
 * pending, or needs_reconciliation): first after 60 s, then every 5 min five times,
 * then after 1 h, then after 1 day; when still unsettled it is marked needs_review
 * and every admin gets an e-mail. Changes go through payment_sync.h (forward only,
 * never over a final status). */
#ifndef HERALD_RECONCILE_H
#define HERALD_RECONCILE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <time.h>

#include "app/app.h"

#define H_SYNC_STEPS 8

/* Seconds to wait before sync number attempts + 1 (attempts already made); -1 when
 * the schedule is exhausted. Pure. */
int h_reconcile_sync_delay(int attempts);

enum h_sync_outcome {
  H_SYNC_SETTLED,   /* final or no longer in doubt */
  H_SYNC_PENDING,   /* still unsettled: scheduled again */
  H_SYNC_REVIEW,    /* schedule exhausted: needs_review, admins notified */
};

/* Fetches the payment (or retries its create with the same Idempotency-Key when no
 * intent id was stored) and applies what the provider says. force: a manual sync
 * (does not advance the schedule when it stays unsettled). H_ERR_NOT_FOUND for an
 * unknown payment, H_ERR_UNAVAILABLE when payments are not configured. */
h_result h_reconcile_sync_payment(struct h_app *app, const char *id, bool force,
                                  enum h_sync_outcome *outcome);
h_result h_reconcile_sync_refund(struct h_app *app, const char *id, bool force,
                                 enum h_sync_outcome *outcome);

/* Syncs up to limit payments and refunds whose sync is due (rows claimed with
 * SKIP LOCKED, so concurrent copies never sync one twice). *done: how many. */
h_result h_reconcile_sync_due(struct h_app *app, int limit, int *done);

/* What a ledger run found. */
struct h_ledger_totals {
  int local_count, provider_count;
  long long local_amount, provider_amount; /* succeeded payments minus refunds, all currencies */
  int found;    /* differences */
  int added;    /* of which new (not reported for this period before) */
  int by_kind[5];
};
/* missing_locally, missing_at_provider, amount_mismatch, status_mismatch,
 * currency_mismatch. Static. */
const char *h_ledger_kind_name(int kind);

/* Compares the period [since, until) with the provider. run_id NULL: a dry run
 * (nothing written); else the run row (queued) is run, its items written and the
 * admins notified. items (may be NULL) receives the differences (new reference). */
h_result h_reconcile_ledger(struct h_app *app, const char *run_id, time_t since, time_t until,
                            struct h_ledger_totals *out, json_t **items);

/* Creates a queued run row for the period into run_id (requested_by may be NULL). */
h_result h_reconcile_run_create(struct h_app *app, time_t since, time_t until,
                                const char *requested_by, char run_id[37]);
/* Runs a queued run by id (reads its period). */
h_result h_reconcile_run_execute(struct h_app *app, const char *run_id,
                                 struct h_ledger_totals *out);

/* Deletes audit_log and delivery_events rows past retention in batches, expired
 * idempotency keys and refresh tokens, and notifications (with their deliveries and events)
 * older than HERALD_NOTIFICATION_RETENTION_DAYS, 1,000 a statement. *deleted: rows removed
 * directly; *notifications: the notifications among them. */
h_result h_reconcile_housekeeping(struct h_app *app, int audit_days, int event_days,
                                  long *deleted, long *notifications);

/* Parses "YYYY-MM-DD" or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
bool h_reconcile_parse_time(const char *s, time_t *out);

#endif

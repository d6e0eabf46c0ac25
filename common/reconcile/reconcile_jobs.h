/* reconcile_jobs.h - the reconcile_jobs table (jobs that are not deliveries) and
 * its queue herald:q:{reconcile}: PostgreSQL holds the truth, Redis carries ids.
 *
 * A job is claimed by a conditional UPDATE (status queued -> running, fencing_token
 * + 1); its end is written only under that token, so a stale owner (its job was
 * reaped and claimed again) changes nothing. An id in the ready list twice is
 * harmless: the second claim finds it no longer queued. */
#ifndef HERALD_RECONCILE_JOBS_H
#define HERALD_RECONCILE_JOBS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "core/result.h"

struct h_reconcile_job {
  char id[37];
  char kind[16];
  char subject[64];
  long long token;
  int attempts;
};

/* Queues a job unless one is open for the same kind and subject; *id receives the
 * open job's id either way. Push it with h_reconcile_jobs_push after COMMIT. */
h_result h_reconcile_jobs_enqueue(PGconn *conn, const char *kind, const char *subject,
                                  char id[37]);
/* LPUSHes ids (Redis down: logged; the next tick re-pushes queued jobs). */
void h_reconcile_jobs_push(struct h_app *app, const char *const *ids, size_t n);

/* Claims a queued job; H_ERR_NOT_FOUND when it is not queued (done, or claimed). */
h_result h_reconcile_jobs_claim(PGconn *conn, const char *id, struct h_reconcile_job *out);
/* Ends a claimed job: done (ok), else queued again after retry_s or failed when
 * retry_s < 0. H_ERR_CONFLICT when the token is stale. */
h_result h_reconcile_jobs_finish(PGconn *conn, const struct h_reconcile_job *job, bool ok,
                                 const char *error, int retry_s);

/* The scheduler's tick (call under the cross-process lock): queues syncs that are
 * due, yesterday's ledger run and today's housekeeping when missing, returns to
 * the queue jobs left running for 10 minutes, and fills ids (array) with every
 * queued job that is due, for pushing. */
h_result h_reconcile_jobs_tick(PGconn *conn, time_t yesterday, json_t *ids);

/* The workers' sweep (no lock needed): queued jobs that are due and were not
 * touched for quiet_s seconds (a retry whose delay has passed, an id Redis lost)
 * are bumped (updated_at, rows locked FOR UPDATE SKIP LOCKED, so concurrent sweeps
 * take disjoint rows) and their ids appended to ids, for pushing after the commit
 * (this statement commits on its own). At most limit rows. */
h_result h_reconcile_jobs_sweep(PGconn *conn, int quiet_s, int limit, json_t *ids);

#endif

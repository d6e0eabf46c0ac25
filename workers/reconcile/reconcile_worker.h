/* reconcile_worker.h - herald-reconcile: drains herald:q:{reconcile} (reconcile_jobs
 * rows) and, with --every, schedules the periodic syncs, the daily ledger run and
 * housekeeping, once across every running copy (a Redis lock, SET NX PX).
 *
 * Its own binary rather than a workers/runtime channel: the runtime's jobs are
 * deliveries and its providers send messages, while these jobs are rows of
 * reconcile_jobs run by the API's payment services. It follows the same command
 * line, the same BLMOVE / claim / LREM protocol (one processing list per thread)
 * and the same SIGTERM drain. Every copy also sweeps: due queued jobs (a failed
 * job's retry) are pushed again without --every. */
#ifndef HERALD_RECONCILE_WORKER_H
#define HERALD_RECONCILE_WORKER_H

#include <stdbool.h>

#include "app/app.h"

struct h_rw_options {
  bool once;       /* drain what is ready, then exit */
  long max_jobs;   /* 0: no limit */
  long every_s;    /* 0: no scheduling */
  bool dry_run;    /* claim nothing; log what is ready */
  int concurrency; /* threads, each with its own Redis and PostgreSQL connection (0: 1) */
  int metrics_port; /* /metrics on 127.0.0.1 (0: off) */
  const char *worker_id;
};

/* Runs opt->concurrency threads until SIGTERM/SIGINT (drains: the jobs in hand
 * finish) or, with once, until the ready list is empty. Returns the exit status. */
int h_rw_run(struct h_app *app, const struct h_rw_options *opt);

/* One scheduler tick if this copy wins the lock; *won tells. */
int h_rw_tick(struct h_app *app, const char *worker_id, long every_s, bool *won);

/* Installs the SIGTERM/SIGINT handlers (first: drain, second: exit at once). */
void h_rw_signals(void);

#endif

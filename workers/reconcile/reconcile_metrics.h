/* reconcile_metrics.h - herald-reconcile's Prometheus metrics: jobs by kind and
 * outcome, job duration by kind, the depth of herald:q:{reconcile}, jobs in flight
 * and ids the sweep pushed again; served as text on 127.0.0.1:<port>/metrics by a
 * small thread (--metrics-port). Thread-safe. */
#ifndef HERALD_RECONCILE_METRICS_H
#define HERALD_RECONCILE_METRICS_H

#include <stdio.h>

#include "core/result.h"

enum h_rm_outcome {
  H_RM_DONE,    /* finished */
  H_RM_RETRY,   /* failed, queued again with a delay */
  H_RM_FAILED,  /* failed, attempts exhausted */
  H_RM_DROPPED, /* an id whose row was not claimable (duplicate, done, not due) */
  H_RM_OUTCOMES
};

struct h_rmetrics;

/* Caller frees with h_rmetrics_destroy (which stops the server). */
struct h_rmetrics *h_rmetrics_create(void);
void h_rmetrics_destroy(struct h_rmetrics *m);

/* kind: a reconcile_jobs kind; anything else counts as "unknown". */
void h_rmetrics_job(struct h_rmetrics *m, const char *kind, enum h_rm_outcome o, double seconds);
void h_rmetrics_in_flight(struct h_rmetrics *m, int delta);
void h_rmetrics_depth(struct h_rmetrics *m, long long ready);
void h_rmetrics_swept(struct h_rmetrics *m, long pushed);
/* Rows housekeeping deleted, and the notifications among them. */
void h_rmetrics_purged(struct h_rmetrics *m, long rows, long notifications);
unsigned long long h_rmetrics_count(struct h_rmetrics *m, enum h_rm_outcome o);

/* Writes the text exposition format. */
void h_rmetrics_render(struct h_rmetrics *m, FILE *out);

/* Serves GET /metrics on 127.0.0.1:port (*bound receives the port) in a thread
 * until h_rmetrics_serve_stop. H_ERR_UNAVAILABLE when it cannot listen. */
h_result h_rmetrics_serve_start(struct h_rmetrics *m, int port, int *bound);
void h_rmetrics_serve_stop(struct h_rmetrics *m);

#endif

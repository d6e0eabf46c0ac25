/* reconcile_metrics.c - herald-reconcile's counters, a duration histogram per job
 * kind and the /metrics thread. */
#include "reconcile_metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/metrics_http.h"

#define KINDS 5
#define NBUCKETS 12

static const char *const kind_names[KINDS] = {"payment_sync", "refund_sync", "ledger_run",
                                              "housekeeping", "unknown"};
static const char *const outcome_names[H_RM_OUTCOMES] = {"done", "retry", "failed", "dropped"};
static const double bounds[NBUCKETS] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600};

struct h_rmetrics {
  atomic_ullong jobs[KINDS][H_RM_OUTCOMES];
  atomic_llong ready;
  atomic_int in_flight;
  atomic_ullong swept;
  atomic_ullong purged_rows, purged_notifications;
  pthread_mutex_t lock; /* the histograms */
  unsigned long long bucket[KINDS][NBUCKETS];
  unsigned long long count[KINDS];
  double sum[KINDS];
  struct h_metrics_http *http; /* the /metrics listener, NULL while not serving */
};

struct h_rmetrics *h_rmetrics_create(void) {
  struct h_rmetrics *m = h_calloc(1, sizeof(*m));
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void h_rmetrics_destroy(struct h_rmetrics *m) {
  if (m == NULL) {
    return;
  }
  h_rmetrics_serve_stop(m);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static int kind_index(const char *kind) {
  for (int k = 0; k < KINDS - 1; k++) {
    if (kind != NULL && strcmp(kind, kind_names[k]) == 0) {
      return k;
    }
  }
  return KINDS - 1;
}

void h_rmetrics_job(struct h_rmetrics *m, const char *kind, enum h_rm_outcome o, double seconds) {
  int k = kind_index(kind);
  atomic_fetch_add(&m->jobs[k][o], 1);
  if (o == H_RM_DROPPED) {
    return; /* nothing ran */
  }
  pthread_mutex_lock(&m->lock);
  for (int b = 0; b < NBUCKETS; b++) {
    if (seconds <= bounds[b]) {
      m->bucket[k][b]++;
      break;
    }
  }
  m->count[k]++;
  m->sum[k] += seconds;
  pthread_mutex_unlock(&m->lock);
}

void h_rmetrics_in_flight(struct h_rmetrics *m, int delta) {
  atomic_fetch_add(&m->in_flight, delta);
}
void h_rmetrics_depth(struct h_rmetrics *m, long long ready) { atomic_store(&m->ready, ready); }
void h_rmetrics_swept(struct h_rmetrics *m, long pushed) {
  atomic_fetch_add(&m->swept, (unsigned long long)pushed);
}

void h_rmetrics_purged(struct h_rmetrics *m, long rows, long notifications) {
  atomic_fetch_add(&m->purged_rows, (unsigned long long)rows);
  atomic_fetch_add(&m->purged_notifications, (unsigned long long)notifications);
}

unsigned long long h_rmetrics_count(struct h_rmetrics *m, enum h_rm_outcome o) {
  unsigned long long n = 0;
  for (int k = 0; k < KINDS; k++) {
    n += atomic_load(&m->jobs[k][o]);
  }
  return n;
}

static void render_histograms(struct h_rmetrics *m, FILE *out) {
  fputs("# HELP herald_reconcile_job_duration_seconds Time to run a job, by kind.\n"
        "# TYPE herald_reconcile_job_duration_seconds histogram\n", out);
  pthread_mutex_lock(&m->lock);
  for (int k = 0; k < KINDS; k++) {
    unsigned long long cumulative = 0;
    for (int b = 0; b < NBUCKETS; b++) {
      cumulative += m->bucket[k][b];
      fprintf(out, "herald_reconcile_job_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %llu\n",
              kind_names[k], bounds[b], cumulative);
    }
    fprintf(out, "herald_reconcile_job_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n"
                 "herald_reconcile_job_duration_seconds_sum{kind=\"%s\"} %.6f\n"
                 "herald_reconcile_job_duration_seconds_count{kind=\"%s\"} %llu\n",
            kind_names[k], m->count[k], kind_names[k], m->sum[k], kind_names[k], m->count[k]);
  }
  pthread_mutex_unlock(&m->lock);
}

void h_rmetrics_render(struct h_rmetrics *m, FILE *out) {
  fputs("# HELP herald_reconcile_jobs_total Reconcile jobs handled, by kind and outcome.\n"
        "# TYPE herald_reconcile_jobs_total counter\n", out);
  for (int k = 0; k < KINDS; k++) {
    for (int o = 0; o < H_RM_OUTCOMES; o++) {
      fprintf(out, "herald_reconcile_jobs_total{kind=\"%s\",outcome=\"%s\"} %llu\n",
              kind_names[k], outcome_names[o], atomic_load(&m->jobs[k][o]));
    }
  }
  render_histograms(m, out);
  fprintf(out,
          "# HELP herald_reconcile_queue_depth Ids waiting in herald:q:{reconcile}.\n"
          "# TYPE herald_reconcile_queue_depth gauge\n"
          "herald_reconcile_queue_depth %lld\n"
          "# HELP herald_reconcile_in_flight Jobs running now.\n"
          "# TYPE herald_reconcile_in_flight gauge\n"
          "herald_reconcile_in_flight %d\n"
          "# HELP herald_reconcile_swept_total Due queued jobs the sweep pushed again.\n"
          "# TYPE herald_reconcile_swept_total counter\n"
          "herald_reconcile_swept_total %llu\n",
          atomic_load(&m->ready), atomic_load(&m->in_flight), atomic_load(&m->swept));
  fprintf(out,
          "# HELP herald_housekeeping_rows_deleted_total Rows housekeeping deleted past"
          " retention (audit, events, idempotency keys, refresh tokens, notifications).\n"
          "# TYPE herald_housekeeping_rows_deleted_total counter\n"
          "herald_housekeeping_rows_deleted_total %llu\n"
          "# HELP herald_housekeeping_notifications_deleted_total Notifications deleted past"
          " HERALD_NOTIFICATION_RETENTION_DAYS (their deliveries with them).\n"
          "# TYPE herald_housekeeping_notifications_deleted_total counter\n"
          "herald_housekeeping_notifications_deleted_total %llu\n",
          atomic_load(&m->purged_rows), atomic_load(&m->purged_notifications));
}

/* The listener's render callback. */
static void render_cb(void *ctx, FILE *out) { h_rmetrics_render(ctx, out); }

h_result h_rmetrics_serve_start(struct h_rmetrics *m, int port, int *bound) {
  return h_metrics_http_start(port, render_cb, m, &m->http, bound);
}

void h_rmetrics_serve_stop(struct h_rmetrics *m) {
  h_metrics_http_stop(m->http);
  m->http = NULL;
}

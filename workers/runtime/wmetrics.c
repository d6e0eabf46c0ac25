/* wmetrics.c - worker counters, a latency histogram and the /metrics thread. */
#include "wmetrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/metrics_http.h"

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *outcome_names[H_OUT_COUNT] = {
  "sent", "retry", "failed", "dead", "skipped", "held", "dropped", "fenced", "recovered",
  "returned", "throttled", "digest", "capped"};
static const char *depth_names[H_DEPTH_COUNT] = {"ready", "processing", "delayed", "dead"};

struct h_wmetrics {
  char *queue;
  atomic_ullong outcomes[H_OUT_COUNT];
  atomic_llong depth[H_DEPTH_COUNT];
  atomic_int in_flight;
  atomic_ullong reconnects;
  atomic_ullong watchdog_cuts;
  pthread_mutex_t lock; /* the histogram */
  unsigned long long bucket[NBUCKETS];
  unsigned long long count;
  double sum;
  /* providers */
  int nproviders;
  bool breakers;
  const char *providers[H_WMETRICS_PROVIDERS];
  atomic_ullong calls[H_WMETRICS_PROVIDERS][H_CALL_COUNT];
  atomic_int breaker[H_WMETRICS_PROVIDERS];
  atomic_ullong transitions[H_WMETRICS_PROVIDERS][3];
  atomic_ullong failovers;
  /* the server */
  struct h_metrics_http *http; /* the /metrics listener, NULL while not serving */
};

struct h_wmetrics *h_wmetrics_create(const char *queue) {
  struct h_wmetrics *m = h_calloc(1, sizeof(*m));
  m->queue = h_strdup(queue);
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void h_wmetrics_destroy(struct h_wmetrics *m) {
  if (m == NULL) {
    return;
  }
  h_wmetrics_serve_stop(m);
  pthread_mutex_destroy(&m->lock);
  free(m->queue);
  free(m);
}

void h_wmetrics_outcome(struct h_wmetrics *m, enum h_outcome o) { atomic_fetch_add(&m->outcomes[o], 1); }
void h_wmetrics_in_flight(struct h_wmetrics *m, int delta) { atomic_fetch_add(&m->in_flight, delta); }
void h_wmetrics_depth(struct h_wmetrics *m, enum h_depth d, long long v) { atomic_store(&m->depth[d], v); }
void h_wmetrics_reconnect(struct h_wmetrics *m) { atomic_fetch_add(&m->reconnects, 1); }
void h_wmetrics_watchdog(struct h_wmetrics *m) { atomic_fetch_add(&m->watchdog_cuts, 1); }

void h_wmetrics_providers(struct h_wmetrics *m, const char *const *names, int n, bool breakers) {
  m->nproviders = n < H_WMETRICS_PROVIDERS ? n : H_WMETRICS_PROVIDERS;
  m->breakers = breakers;
  for (int i = 0; i < m->nproviders; i++) {
    m->providers[i] = names[i];
  }
}

void h_wmetrics_call(struct h_wmetrics *m, int i, enum h_call r) {
  if (i >= 0 && i < m->nproviders) {
    atomic_fetch_add(&m->calls[i][r], 1);
  }
}

void h_wmetrics_failover(struct h_wmetrics *m) { atomic_fetch_add(&m->failovers, 1); }

void h_wmetrics_breaker(struct h_wmetrics *m, int i, int state) {
  if (i >= 0 && i < m->nproviders) {
    atomic_store(&m->breaker[i], state);
  }
}

void h_wmetrics_breaker_transition(struct h_wmetrics *m, int i, int to) {
  if (i >= 0 && i < m->nproviders && to >= 0 && to < 3) {
    atomic_fetch_add(&m->transitions[i][to], 1);
  }
}

unsigned long long h_wmetrics_count(struct h_wmetrics *m, enum h_outcome o) {
  return atomic_load(&m->outcomes[o]);
}

void h_wmetrics_latency(struct h_wmetrics *m, double seconds) {
  pthread_mutex_lock(&m->lock);
  for (size_t b = 0; b < NBUCKETS; b++) {
    if (seconds <= buckets[b]) {
      m->bucket[b]++;
      break;
    }
  }
  m->count++;
  m->sum += seconds;
  pthread_mutex_unlock(&m->lock);
}

static void render_histogram(struct h_wmetrics *m, FILE *out) {
  fprintf(out, "# HELP herald_worker_send_duration_seconds Provider call latency.\n"
               "# TYPE herald_worker_send_duration_seconds histogram\n");
  pthread_mutex_lock(&m->lock);
  unsigned long long cumulative = 0;
  for (size_t b = 0; b < NBUCKETS; b++) {
    cumulative += m->bucket[b];
    fprintf(out, "herald_worker_send_duration_seconds_bucket{queue=\"%s\",le=\"%g\"} %llu\n",
            m->queue, buckets[b], cumulative);
  }
  fprintf(out, "herald_worker_send_duration_seconds_bucket{queue=\"%s\",le=\"+Inf\"} %llu\n",
          m->queue, m->count);
  fprintf(out, "herald_worker_send_duration_seconds_sum{queue=\"%s\"} %.6f\n", m->queue, m->sum);
  fprintf(out, "herald_worker_send_duration_seconds_count{queue=\"%s\"} %llu\n", m->queue,
          m->count);
  pthread_mutex_unlock(&m->lock);
}

static void render_providers(struct h_wmetrics *m, FILE *out) {
  static const char *calls[H_CALL_COUNT] = {"ok", "retry", "permanent", "breaker_open"};
  static const char *states[3] = {"closed", "open", "half_open"};
  fprintf(out, "# HELP herald_worker_provider_calls_total Provider calls, by provider and result.\n"
               "# TYPE herald_worker_provider_calls_total counter\n");
  for (int i = 0; i < m->nproviders; i++) {
    for (int c = 0; c < H_CALL_COUNT; c++) {
      fprintf(out, "herald_worker_provider_calls_total{queue=\"%s\",provider=\"%s\",result=\"%s\"} %llu\n",
              m->queue, m->providers[i], calls[c], atomic_load(&m->calls[i][c]));
    }
  }
  fprintf(out, "# HELP herald_worker_failovers_total Jobs moved to the next provider.\n"
               "# TYPE herald_worker_failovers_total counter\n"
               "herald_worker_failovers_total{queue=\"%s\"} %llu\n",
          m->queue, atomic_load(&m->failovers));
  if (!m->breakers) {
    return;
  }
  fprintf(out, "# HELP herald_worker_breaker_state Circuit breaker of each provider (0 closed, 1"
               " open, 2 half-open), as last read from Redis.\n"
               "# TYPE herald_worker_breaker_state gauge\n");
  for (int i = 0; i < m->nproviders; i++) {
    fprintf(out, "herald_worker_breaker_state{queue=\"%s\",provider=\"%s\"} %d\n", m->queue,
            m->providers[i], atomic_load(&m->breaker[i]));
  }
  fprintf(out, "# HELP herald_worker_breaker_transitions_total Breaker changes this worker made.\n"
               "# TYPE herald_worker_breaker_transitions_total counter\n");
  for (int i = 0; i < m->nproviders; i++) {
    for (int st = 0; st < 3; st++) {
      if (st != 2) {
        fprintf(out, "herald_worker_breaker_transitions_total{queue=\"%s\",provider=\"%s\",to=\"%s\"} %llu\n",
                m->queue, m->providers[i], states[st], atomic_load(&m->transitions[i][st]));
      }
    }
  }
}

void h_wmetrics_render(struct h_wmetrics *m, FILE *out) {
  fprintf(out, "# HELP herald_worker_jobs_total Jobs handled, by outcome.\n"
               "# TYPE herald_worker_jobs_total counter\n");
  for (int o = 0; o < H_OUT_COUNT; o++) {
    fprintf(out, "herald_worker_jobs_total{queue=\"%s\",outcome=\"%s\"} %llu\n", m->queue,
            outcome_names[o], atomic_load(&m->outcomes[o]));
  }
  render_histogram(m, out);
  fprintf(out, "# HELP herald_worker_queue_depth Ids waiting, by list.\n"
               "# TYPE herald_worker_queue_depth gauge\n");
  for (int d = 0; d < H_DEPTH_COUNT; d++) {
    fprintf(out, "herald_worker_queue_depth{queue=\"%s\",list=\"%s\"} %lld\n", m->queue,
            depth_names[d], atomic_load(&m->depth[d]));
  }
  fprintf(out,
          "# HELP herald_worker_in_flight Jobs being sent now.\n"
          "# TYPE herald_worker_in_flight gauge\n"
          "herald_worker_in_flight{queue=\"%s\"} %d\n"
          "# HELP herald_worker_connections_total Connections opened (reconnects included).\n"
          "# TYPE herald_worker_connections_total counter\n"
          "herald_worker_connections_total{queue=\"%s\"} %llu\n"
          "# HELP herald_worker_watchdog_total Blocked calls the watchdog cut.\n"
          "# TYPE herald_worker_watchdog_total counter\n"
          "herald_worker_watchdog_total{queue=\"%s\"} %llu\n",
          m->queue, atomic_load(&m->in_flight), m->queue, atomic_load(&m->reconnects), m->queue,
          atomic_load(&m->watchdog_cuts));
  render_providers(m, out);
}

/* The listener's render callback. */
static void render_cb(void *ctx, FILE *out) { h_wmetrics_render(ctx, out); }

h_result h_wmetrics_serve_start(struct h_wmetrics *m, int port, int *bound) {
  return h_metrics_http_start(port, render_cb, m, &m->http, bound);
}

void h_wmetrics_serve_stop(struct h_wmetrics *m) {
  h_metrics_http_stop(m->http);
  m->http = NULL;
}

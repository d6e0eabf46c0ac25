/* metrics.c - request counters and latency histograms with bounded label sets. */
#include "net/metrics.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* Label values come from closed sets, so the number of series is bounded whatever
 * clients send: routes are the route table's patterns (or "unmatched"), methods the
 * standard ones (or "other"), statuses 100-599 (or "other"). Past H_METRICS_MAX_SERIES,
 * further combinations count in one overflow series. Lookups go through a hash table. */
#define TABLE_SIZE (2 * H_METRICS_MAX_SERIES) /* a power of two, at most half full */

struct series {
  const char *route;  /* owned copy */
  const char *method; /* static */
  unsigned int status; /* 0: "other" */
  unsigned long long count;
  double sum;
  unsigned long long bucket[NBUCKETS]; /* non-cumulative */
};

struct h_metrics {
  pthread_mutex_t lock;
  struct series series[H_METRICS_MAX_SERIES + 1]; /* the last one is the overflow */
  size_t n;
  int table[TABLE_SIZE]; /* series index + 1; 0: empty */
};

struct h_metrics *h_metrics_create(void) {
  struct h_metrics *m = h_calloc(1, sizeof(*m));
  pthread_mutex_init(&m->lock, NULL);
  struct series *over = &m->series[H_METRICS_MAX_SERIES];
  over->route = h_strdup("other");
  over->method = "other";
  return m;
}

void h_metrics_destroy(struct h_metrics *m) {
  if (m == NULL) {
    return;
  }
  for (size_t i = 0; i <= H_METRICS_MAX_SERIES; i++) {
    free((char *)m->series[i].route);
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}

const char *h_metrics_method_label(const char *method) {
  static const char *const known[] = {"GET",     "POST",  "PUT",     "PATCH", "DELETE",
                                      "HEAD",    "OPTIONS", NULL};
  for (int i = 0; method != NULL && known[i] != NULL; i++) {
    if (strcmp(known[i], method) == 0) {
      return known[i];
    }
  }
  return "other";
}

static size_t hash(const char *route, const char *method, unsigned int status) {
  uint64_t h = h_fnv1a(route);
  h = (h ^ (uintptr_t)method) * H_FNV1A_PRIME; /* method labels are static strings */
  h = (h ^ status) * H_FNV1A_PRIME;
  return (size_t)(h & (TABLE_SIZE - 1));
}

/* The series of (route, method label, status); the overflow one when the table is full.
 * Called with the lock held. */
static struct series *find(struct h_metrics *m, const char *route, const char *method,
                           unsigned int status) {
  size_t slot = hash(route, method, status);
  for (;;) {
    int idx = m->table[slot];
    if (idx == 0) {
      break;
    }
    struct series *s = &m->series[idx - 1];
    if (s->status == status && s->method == method && strcmp(s->route, route) == 0) {
      return s;
    }
    slot = (slot + 1) & (TABLE_SIZE - 1);
  }
  if (m->n == H_METRICS_MAX_SERIES) {
    return &m->series[H_METRICS_MAX_SERIES];
  }
  struct series *s = &m->series[m->n++];
  s->route = h_strdup(route);
  s->method = method;
  s->status = status;
  m->table[slot] = (int)m->n;
  return s;
}

void h_metrics_observe(struct h_metrics *m, const char *route, const char *method,
                       unsigned int status, double seconds) {
  const char *label = h_metrics_method_label(method);
  if (status < 100 || status > 599) {
    status = 0;
  }
  pthread_mutex_lock(&m->lock);
  struct series *s = find(m, route != NULL ? route : "unmatched", label, status);
  s->count++;
  s->sum += seconds;
  for (size_t b = 0; b < NBUCKETS; b++) {
    if (seconds <= buckets[b]) {
      s->bucket[b]++;
      break;
    }
  }
  pthread_mutex_unlock(&m->lock);
}

size_t h_metrics_series_count(struct h_metrics *m) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->n + (m->series[H_METRICS_MAX_SERIES].count > 0 ? 1 : 0);
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* One series' labels: route="...",method="...",status="..." */
static void labels(FILE *out, const struct series *s) {
  if (s->status == 0) {
    fprintf(out, "route=\"%s\",method=\"%s\",status=\"other\"", s->route, s->method);
  } else {
    fprintf(out, "route=\"%s\",method=\"%s\",status=\"%u\"", s->route, s->method, s->status);
  }
}

/* The histogram lines of one series. */
static void render_histogram(FILE *out, const struct series *s) {
  unsigned long long cumulative = 0;
  for (size_t b = 0; b < NBUCKETS; b++) {
    cumulative += s->bucket[b];
    fputs("herald_http_request_duration_seconds_bucket{", out);
    labels(out, s);
    fprintf(out, ",le=\"%g\"} %llu\n", buckets[b], cumulative);
  }
  fputs("herald_http_request_duration_seconds_bucket{", out);
  labels(out, s);
  fprintf(out, ",le=\"+Inf\"} %llu\n", s->count);
  fputs("herald_http_request_duration_seconds_sum{", out);
  labels(out, s);
  fprintf(out, "} %.6f\n", s->sum);
  fputs("herald_http_request_duration_seconds_count{", out);
  labels(out, s);
  fprintf(out, "} %llu\n", s->count);
}

void h_metrics_render(struct h_metrics *m, FILE *out) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->n;
  struct series *over = &m->series[H_METRICS_MAX_SERIES];
  fprintf(out, "# HELP herald_http_requests_total HTTP requests by route, method and status.\n"
               "# TYPE herald_http_requests_total counter\n");
  for (size_t i = 0; i <= H_METRICS_MAX_SERIES; i++) {
    const struct series *s = &m->series[i];
    if (i < n || (s == over && s->count > 0)) {
      fputs("herald_http_requests_total{", out);
      labels(out, s);
      fprintf(out, "} %llu\n", s->count);
    }
  }
  fprintf(out, "# HELP herald_http_request_duration_seconds Request latency.\n"
               "# TYPE herald_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i <= H_METRICS_MAX_SERIES; i++) {
    const struct series *s = &m->series[i];
    if (i < n || (s == over && s->count > 0)) {
      render_histogram(out, s);
    }
  }
  pthread_mutex_unlock(&m->lock);
}

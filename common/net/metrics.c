/* metrics.c - request counters and latency histograms. */
#include "net/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
  char *route;
  char *method;
  unsigned int status;
  unsigned long long count;
  double sum;
  unsigned long long bucket[NBUCKETS]; /* non-cumulative */
};

struct h_metrics {
  pthread_mutex_t lock;
  struct series *series;
  size_t n, cap;
};

struct h_metrics *h_metrics_create(void) {
  struct h_metrics *m = h_calloc(1, sizeof(*m));
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void h_metrics_destroy(struct h_metrics *m) {
  if (m == NULL) {
    return;
  }
  for (size_t i = 0; i < m->n; i++) {
    free(m->series[i].route);
    free(m->series[i].method);
  }
  free(m->series);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static struct series *find(struct h_metrics *m, const char *route, const char *method,
                           unsigned int status) {
  for (size_t i = 0; i < m->n; i++) {
    struct series *s = &m->series[i];
    if (s->status == status && strcmp(s->route, route) == 0 && strcmp(s->method, method) == 0) {
      return s;
    }
  }
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 32;
    m->series = h_realloc(m->series, m->cap * sizeof(struct series));
  }
  struct series *s = &m->series[m->n++];
  memset(s, 0, sizeof(*s));
  s->route = h_strdup(route);
  s->method = h_strdup(method);
  s->status = status;
  return s;
}

void h_metrics_observe(struct h_metrics *m, const char *route, const char *method,
                       unsigned int status, double seconds) {
  pthread_mutex_lock(&m->lock);
  struct series *s = find(m, route, method, status);
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

void h_metrics_render(struct h_metrics *m, FILE *out) {
  pthread_mutex_lock(&m->lock);
  fprintf(out, "# HELP herald_http_requests_total HTTP requests by route, method and status.\n"
               "# TYPE herald_http_requests_total counter\n");
  for (size_t i = 0; i < m->n; i++) {
    struct series *s = &m->series[i];
    fprintf(out, "herald_http_requests_total{route=\"%s\",method=\"%s\",status=\"%u\"} %llu\n",
            s->route, s->method, s->status, s->count);
  }
  fprintf(out, "# HELP herald_http_request_duration_seconds Request latency.\n"
               "# TYPE herald_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < m->n; i++) {
    struct series *s = &m->series[i];
    unsigned long long cumulative = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
      cumulative += s->bucket[b];
      fprintf(out,
              "herald_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",status=\"%u\","
              "le=\"%g\"} %llu\n",
              s->route, s->method, s->status, buckets[b], cumulative);
    }
    fprintf(out,
            "herald_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",status=\"%u\","
            "le=\"+Inf\"} %llu\n",
            s->route, s->method, s->status, s->count);
    fprintf(out,
            "herald_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\",status=\"%u\"} "
            "%.6f\n",
            s->route, s->method, s->status, s->sum);
    fprintf(out,
            "herald_http_request_duration_seconds_count{route=\"%s\",method=\"%s\",status=\"%u\"} "
            "%llu\n",
            s->route, s->method, s->status, s->count);
  }
  pthread_mutex_unlock(&m->lock);
}

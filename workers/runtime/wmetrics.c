/* wmetrics.c - worker counters, a latency histogram and the /metrics thread. */
#include "wmetrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *outcome_names[H_OUT_COUNT] = {
  "sent", "retry", "failed", "dead", "skipped", "held", "dropped", "fenced", "recovered",
  "returned"};
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
  /* the server */
  int listen_fd;
  pthread_t server;
  atomic_bool serving;
};

struct h_wmetrics *h_wmetrics_create(const char *queue) {
  struct h_wmetrics *m = h_calloc(1, sizeof(*m));
  m->queue = h_strdup(queue);
  m->listen_fd = -1;
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
}

/* Answers one connection: GET /metrics -> 200 text, anything else -> 404. */
static void answer(struct h_wmetrics *m, int fd) {
  char req[1024];
  struct pollfd p = {fd, POLLIN, 0};
  ssize_t n = poll(&p, 1, 2000) == 1 ? recv(fd, req, sizeof(req) - 1, 0) : -1;
  if (n <= 0) {
    return;
  }
  req[n] = '\0';
  char *body = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&body, &len);
  bool found = strncmp(req, "GET /metrics", 12) == 0;
  if (found) {
    h_wmetrics_render(m, f);
  } else {
    fputs("not found\n", f);
  }
  fclose(f);
  char head[160];
  int hl = snprintf(head, sizeof(head),
                    "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                    found ? "200 OK" : "404 Not Found", len);
  if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl) {
    (void)send(fd, body, len, MSG_NOSIGNAL);
  }
  free(body);
}

static void *serve(void *arg) {
  struct h_wmetrics *m = arg;
  while (atomic_load(&m->serving)) {
    struct pollfd p = {m->listen_fd, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) {
      continue;
    }
    int fd = accept(m->listen_fd, NULL, NULL);
    if (fd >= 0) {
      answer(m, fd);
      close(fd);
    }
  }
  return NULL;
}

h_result h_wmetrics_serve_start(struct h_wmetrics *m, int port, int *bound) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    h_log_error("h_wmetrics_serve_start: cannot listen on 127.0.0.1:%d", port);
    if (fd >= 0) {
      close(fd);
    }
    return H_ERR_UNAVAILABLE;
  }
  *bound = ntohs(a.sin_port);
  m->listen_fd = fd;
  atomic_store(&m->serving, true);
  pthread_create(&m->server, NULL, serve, m);
  return H_OK;
}

void h_wmetrics_serve_stop(struct h_wmetrics *m) {
  if (m->listen_fd < 0) {
    return;
  }
  atomic_store(&m->serving, false);
  pthread_join(m->server, NULL);
  close(m->listen_fd);
  m->listen_fd = -1;
}

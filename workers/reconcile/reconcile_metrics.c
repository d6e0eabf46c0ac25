/* reconcile_metrics.c - herald-reconcile's counters, a duration histogram per job
 * kind and the /metrics thread. */
#include "reconcile_metrics.h"

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
  pthread_mutex_t lock; /* the histograms */
  unsigned long long bucket[KINDS][NBUCKETS];
  unsigned long long count[KINDS];
  double sum[KINDS];
  int listen_fd;
  pthread_t server;
  atomic_bool serving;
};

struct h_rmetrics *h_rmetrics_create(void) {
  struct h_rmetrics *m = h_calloc(1, sizeof(*m));
  m->listen_fd = -1;
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
}

/* Answers one connection: GET /metrics -> 200 text, anything else -> 404. */
static void answer(struct h_rmetrics *m, int fd) {
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
  bool found = strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0;
  if (found) {
    h_rmetrics_render(m, f);
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
  struct h_rmetrics *m = arg;
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

h_result h_rmetrics_serve_start(struct h_rmetrics *m, int port, int *bound) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    h_log_error("h_rmetrics_serve_start: cannot listen on 127.0.0.1:%d", port);
    if (fd >= 0) {
      close(fd);
    }
    return H_ERR_UNAVAILABLE;
  }
  *bound = ntohs(a.sin_port);
  m->listen_fd = fd;
  atomic_store(&m->serving, true);
  if (pthread_create(&m->server, NULL, serve, m) != 0) {
    close(fd);
    m->listen_fd = -1;
    return H_ERR_UNAVAILABLE;
  }
  return H_OK;
}

void h_rmetrics_serve_stop(struct h_rmetrics *m) {
  if (m->listen_fd < 0) {
    return;
  }
  atomic_store(&m->serving, false);
  pthread_join(m->server, NULL);
  close(m->listen_fd);
  m->listen_fd = -1;
}

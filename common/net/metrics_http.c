/* metrics_http.c - a minimal loopback listener for Prometheus scrapes. */
#include "net/metrics_http.h"

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

#include "core/alloc.h"
#include "core/log.h"

struct h_metrics_http {
  int listen_fd;
  pthread_t thread;
  atomic_bool serving;
  h_metrics_render_fn render;
  void *ctx;
};

/* Answers one connection: GET /metrics -> 200 text, anything else -> 404. */
static void answer(struct h_metrics_http *l, int fd) {
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
    l->render(l->ctx, f);
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
  struct h_metrics_http *l = arg;
  pthread_setname_np(pthread_self(), "metrics-http"); /* top -H, perf --sort comm */
  while (atomic_load(&l->serving)) {
    struct pollfd p = {l->listen_fd, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) {
      continue;
    }
    int fd = accept(l->listen_fd, NULL, NULL);
    if (fd >= 0) {
      answer(l, fd);
      close(fd);
    }
  }
  return NULL;
}

h_result h_metrics_http_start(int port, h_metrics_render_fn render, void *ctx,
                              struct h_metrics_http **out, int *bound) {
  *out = NULL;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    h_log_error("h_metrics_http_start: cannot listen on 127.0.0.1:%d", port);
    if (fd >= 0) {
      close(fd);
    }
    return H_ERR_UNAVAILABLE;
  }
  struct h_metrics_http *l = h_calloc(1, sizeof(*l));
  l->listen_fd = fd;
  l->render = render;
  l->ctx = ctx;
  atomic_store(&l->serving, true);
  if (pthread_create(&l->thread, NULL, serve, l) != 0) {
    close(fd);
    free(l);
    return H_ERR_UNAVAILABLE;
  }
  *bound = ntohs(a.sin_port);
  *out = l;
  return H_OK;
}

void h_metrics_http_stop(struct h_metrics_http *l) {
  if (l == NULL) {
    return;
  }
  atomic_store(&l->serving, false);
  pthread_join(l->thread, NULL);
  close(l->listen_fd);
  free(l);
}

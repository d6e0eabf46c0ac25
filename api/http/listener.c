/* listener.c - the API's listening socket and the one thread that accepts on it.
 *
 * libmicrohttpd's thread pool would put its own listening socket into every pool thread's
 * epoll set. MHD_quiesce_daemon() then takes it out of each set while the pool threads may
 * be doing the same, and libmicrohttpd 0.9.75 aborts the process when the second removal
 * finds it gone (tests/integration/server/test_stop.c stops a server under connection churn).
 * So the daemon runs with MHD_USE_NO_LISTEN_SOCKET and this thread hands each connection to
 * MHD_add_connection(), which gives it to a pool thread with room. Stopping is ours: the
 * thread ends, the backlog is handed over, the socket closes. It also wakes one thread per
 * new connection, where each of the pool's threads woke before. */
#include "http/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

/* Connections taken per wake-up before the stop signal is looked at again. */
#define ACCEPT_BATCH 64
/* How long to wait when the connection limit is reached or descriptors run out. */
#define BACKOFF_MS 10
/* On stopping: how long no late handshake may arrive before the socket closes. */
#define GRACE_MS 20
#define GRACE_ROUNDS 10

struct h_listener {
  int fd;
  int wake; /* eventfd: written once to stop the thread */
  unsigned int port;
  struct MHD_Daemon *daemon;
  const atomic_int *connections;
  int max_connections;
  pthread_t thread;
  bool running;
  unsigned long handed; /* connections MHD took */
  bool starved;         /* out of descriptors, already logged */
};

h_result h_listener_open(const struct sockaddr_in *addr, int backlog, struct h_listener **out) {
  *out = NULL;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    h_log_error("h_listener_open: socket: %s", strerror(errno));
    return H_ERR_UNAVAILABLE;
  }
  int on = 1;
  struct sockaddr_in bound;
  socklen_t len = sizeof(bound);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0 || listen(fd, backlog) != 0 ||
      getsockname(fd, (struct sockaddr *)&bound, &len) != 0) {
    h_log_error("h_listener_open: %s", strerror(errno));
    close(fd);
    return H_ERR_UNAVAILABLE;
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    h_log_error("h_listener_open: eventfd: %s", strerror(errno));
    close(fd);
    return H_ERR_UNAVAILABLE;
  }
  struct h_listener *l = h_calloc(1, sizeof(*l));
  l->fd = fd;
  l->wake = wake;
  l->port = ntohs(bound.sin_port);
  *out = l;
  return H_OK;
}

unsigned int h_listener_port(const struct h_listener *l) { return l->port; }

static void pause_ms(int ms) {
  struct timespec t = {0, (long)ms * 1000 * 1000};
  nanosleep(&t, NULL);
}

/* Accepts up to limit connections (0: until the backlog is empty) and hands them to d.
 * Returns how many MHD took; *starved is set to the errno when descriptors or memory ran
 * out (0 otherwise). */
static int hand_over(int fd, struct MHD_Daemon *d, int limit, int *starved) {
  int taken = 0;
  while (limit == 0 || taken < limit) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int c = accept4(fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        *starved = errno;
      }
      break; /* EAGAIN: the backlog is empty */
    }
    if (MHD_add_connection(d, c, (struct sockaddr *)&addr, len) == MHD_YES) {
      taken++; /* (on failure MHD closes c itself) */
    }
  }
  return taken;
}

int h_listener_adopt_backlog(int fd, struct MHD_Daemon *daemon) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int starved = 0;
  return hand_over(fd, daemon, 0, &starved);
}

static void *accept_loop(void *arg) {
  struct h_listener *l = arg;
  pthread_setname_np(pthread_self(), "http-accept"); /* top -H, perf --sort comm */
  for (;;) {
    bool full = atomic_load(l->connections) >= l->max_connections;
    /* poll() skips a negative descriptor: at the limit only the stop signal is watched */
    struct pollfd p[2] = {{full ? -1 : l->fd, POLLIN, 0}, {l->wake, POLLIN, 0}};
    int n = poll(p, 2, full ? BACKOFF_MS : -1);
    if (n < 0 && errno != EINTR) {
      h_log_error("h_listener: poll: %s", strerror(errno));
      pause_ms(BACKOFF_MS);
      continue;
    }
    if (p[1].revents != 0) {
      return NULL;
    }
    if (n > 0 && (p[0].revents & POLLIN) != 0) {
      int starved = 0;
      l->handed += (unsigned long)hand_over(l->fd, l->daemon, ACCEPT_BATCH, &starved);
      if (starved != 0 && !l->starved) { /* once per shortage, not per retry */
        h_log_warning("h_listener: accept: %s; waiting for connections to close",
                      strerror(starved));
      }
      l->starved = starved != 0;
      if (starved != 0) {
        pause_ms(BACKOFF_MS); /* until some connection closes */
      }
    }
  }
}

h_result h_listener_start(struct h_listener *l, struct MHD_Daemon *daemon,
                          const atomic_int *connections, int max_connections) {
  l->daemon = daemon;
  l->connections = connections;
  l->max_connections = max_connections;
  if (pthread_create(&l->thread, NULL, accept_loop, l) != 0) {
    h_log_error("h_listener_start: pthread_create failed");
    return H_ERR_INTERNAL;
  }
  l->running = true;
  return H_OK;
}

/* Drops every bare SYN that reaches the listening socket from now on: a new client goes
 * unanswered and its retry, the socket closed by then, is refused, rather than completing
 * a handshake that close() would reset. Handshakes already under way still complete (their
 * ACK passes). The filter sees the TCP header at offset 0. */
static void refuse_newcomers(int fd) {
  struct sock_filter bare_syn_dropped[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),          /* the TCP flags */
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),       /* SYN and ACK */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1), /* SYN alone: */
      BPF_STMT(BPF_RET | BPF_K, 0),                    /*   dropped */
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),           /* the rest: kept whole */
  };
  struct sock_fprog prog = {.len = sizeof(bare_syn_dropped) / sizeof(bare_syn_dropped[0]),
                            .filter = bare_syn_dropped};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    h_log_warning("h_listener_close: SO_ATTACH_FILTER: %s", strerror(errno));
  }
}

/* Hands over the backlog, then whatever handshake was still under way, until none has
 * arrived for GRACE_MS (at most GRACE_ROUNDS rounds). */
static int adopt_until_quiet(struct h_listener *l) {
  int adopted = 0;
  struct pollfd p = {l->fd, POLLIN, 0};
  int round = 0;
  do {
    adopted += h_listener_adopt_backlog(l->fd, l->daemon);
  } while (++round < GRACE_ROUNDS && poll(&p, 1, GRACE_MS) > 0);
  return adopted;
}

unsigned long h_listener_close(struct h_listener *l) {
  if (l == NULL) {
    return 0;
  }
  if (l->running) {
    uint64_t one = 1;
    if (write(l->wake, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
      h_log_error("h_listener_close: eventfd write: %s", strerror(errno));
    }
    pthread_join(l->thread, NULL);
    refuse_newcomers(l->fd);
    int adopted = adopt_until_quiet(l);
    l->handed += (unsigned long)adopted;
    h_log_info("h_server_stop: listener closed, %d queued connection(s) adopted", adopted);
  }
  unsigned long handed = l->handed;
  close(l->fd);
  close(l->wake);
  free(l);
  return handed;
}

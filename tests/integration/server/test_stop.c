/* Integration: stopping the server while clients keep connecting. Every stop must return
 * (libmicrohttpd 0.9.75 aborts the process when MHD_quiesce_daemon() and a pool thread
 * both take the listening socket out of their epoll sets), and every request the server
 * read must be answered: a client sees a whole reply or a refused connection, never a
 * reply cut off. And the accepting thread out of descriptors: one warning, then service
 * again once connections close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS 40
#define CLIENTS 3

struct churn {
  unsigned int port;
  atomic_bool stop;
  atomic_int answered; /* whole 200 replies */
  atomic_int refused;  /* connect() refused or unanswered: the listener is going or gone */
  atomic_int cut;      /* a request sent and the reply cut off or missing */
};

/* One request on a fresh connection: 1 answered, 0 refused, -1 cut off. */
static int one_request(unsigned int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* A stopping server leaves a new SYN unanswered: give up after 100 ms, not the 1 s retry. */
  struct timeval wait = {0, 100 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  char reply[4096];
  size_t got = 0;
  if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1)) {
    for (;;) {
      ssize_t n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
      if (n <= 0 || got + (size_t)n >= sizeof(reply) - 1) {
        got += n > 0 ? (size_t)n : 0;
        break;
      }
      got += (size_t)n;
    }
  }
  close(fd);
  reply[got] = '\0';
  return strncmp(reply, "HTTP/1.1 200", 12) == 0 && strstr(reply, "\"ok\"") != NULL ? 1 : -1;
}

static void *client(void *arg) {
  struct churn *c = arg;
  while (!atomic_load(&c->stop)) {
    int r = one_request(c->port);
    atomic_fetch_add(r > 0 ? &c->answered : r == 0 ? &c->refused : &c->cut, 1);
  }
  return NULL;
}

static void test_stop_while_clients_connect(void **state) {
  (void)state;
  int answered = 0, cut = 0;
  for (int round = 0; round < ROUNDS; round++) {
    struct th_server srv;
    th_start(&srv);
    struct churn c = {.port = h_server_port(srv.server)};
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
      assert_int_equal(pthread_create(&t[i], NULL, client, &c), 0);
    }
    while (atomic_load(&c.answered) < 20) { /* connections are coming and going */
      usleep(1000);
    }
    th_stop(&srv); /* aborts the process on the race */
    atomic_store(&c.stop, true);
    for (int i = 0; i < CLIENTS; i++) {
      pthread_join(t[i], NULL);
    }
    assert_true(atomic_load(&c.refused) > 0); /* the clients outlived the listener */
    answered += atomic_load(&c.answered);
    cut += atomic_load(&c.cut);
  }
  print_message("%d rounds: %d answered, %d cut off\n", ROUNDS, answered, cut);
  assert_int_equal(cut, 0);
}

/* A connection that only connects (nothing sent); -1 when refused. */
static int idle_connection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int count_fds(pid_t pid) {
  char cmd[64];
  snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
  FILE *p = popen(cmd, "r");
  int n = -1;
  assert_int_equal(fscanf(p, "%d", &n), 1);
  pclose(p);
  return n;
}

static int count_in_file(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    n += strstr(line, needle) != NULL;
  }
  fclose(f);
  return n;
}

/* Out of descriptors (the process's limit lowered under it): the accepting thread says so
 * once, not at every retry, waits, and serves again when connections close. */
static void test_out_of_descriptors(void **state) {
  (void)state;
  int port = th_free_port();
  char log[64];
  snprintf(log, sizeof(log), "/tmp/herald-stop-%d.log", (int)getpid());
  const char *env[] = {"HERALD_HTTP_THREADS=4", "HERALD_LOG_LEVEL=warning", NULL};
  pid_t pid = th_api_spawn(HERALD_API_BIN, port, env, log);
  int probe = -1;
  for (int i = 0; i < 100 && probe < 0; i++) {
    usleep(100 * 1000);
    probe = idle_connection(port);
  }
  assert_true(probe >= 0);
  close(probe);
  usleep(200 * 1000);
  int open_now = count_fds(pid);
  struct rlimit before;
  int limited = prlimit(pid, RLIMIT_NOFILE, NULL, &before);
  struct rlimit low = {(rlim_t)open_now + 3, before.rlim_max}; /* the soft limit only */
  limited = limited == 0 ? prlimit(pid, RLIMIT_NOFILE, &low, NULL) : limited;
  int held[12];
  for (int i = 0; i < 12; i++) {
    held[i] = idle_connection(port); /* the kernel completes them; the API takes 3 */
  }
  usleep(500 * 1000); /* ~50 retries of the accepting thread */
  for (int i = 0; i < 12; i++) {
    if (held[i] >= 0) {
      close(held[i]);
    }
  }
  int restored = prlimit(pid, RLIMIT_NOFILE, &before, NULL);
  int answered = 0;
  for (int i = 0; i < 50 && !answered; i++) { /* it serves again */
    usleep(100 * 1000);
    answered = one_request((unsigned int)port) > 0;
  }
  kill(pid, SIGTERM);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  int warned = count_in_file(log, "h_listener: accept: Too many open files");
  print_message("out of descriptors: %d warning(s), served again: %d\n", warned, answered);
  unlink(log);
  assert_int_equal(limited, 0);
  assert_int_equal(restored, 0);
  assert_true(answered);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_true(warned >= 1);
  assert_true(warned <= 3); /* per shortage, not per 10 ms retry */
}

int main(void) {
  setenv("HERALD_HTTP_THREADS", "64", 1);
  setenv("HERALD_SHUTDOWN_TIMEOUT_S", "5", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stop_while_clients_connect),
      cmocka_unit_test(test_out_of_descriptors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

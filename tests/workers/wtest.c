/* wtest.c - child processes, fakes, seeding and polling for worker tests. */
#include "wtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "core/log.h"
#include "store/migrate.h"

static char tmpdir[128];
static struct h_redis redis;
static int nprocs;

const char *wt_tmpdir(void) { return tmpdir; }

double wt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wt_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

void wt_init(void) {
  h_alloc_install();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  h_log_init("herald-test", getenv("HERALD_LOG_LEVEL") ? getenv("HERALD_LOG_LEVEL") : "warning");
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/herald-wt-%d", (int)getpid());
  mkdir(tmpdir, 0755);
  PGconn *conn = th_db_connect();
  assert_int_equal(h_migrate(conn, herald_migrations, NULL), H_OK);
  PQfinish(conn);
  struct h_redis_target target;
  const char *url = getenv("HERALD_REDIS_URL");
  if (url == NULL || h_redis_parse_url(url, 2000, &target) != H_OK) {
    fail_msg("HERALD_REDIS_URL is not set or malformed");
  }
  h_redis_init(&redis, &target);
}

struct h_redis *wt_redis(void) { return &redis; }

void wt_finish(void) {
  h_redis_close(&redis);
  if (getenv("WT_KEEP") == NULL && tmpdir[0] != '\0') {
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
      fprintf(stderr, "could not remove %s\n", tmpdir);
    }
  }
}

PGconn *wt_db(void) { return th_db_connect(); }

/* execv in a child with env overrides; stdout to out_fd, stderr to the log file. */
static pid_t spawn(const char *const *argv, const char *const *env, int out_fd,
                   const char *log) {
  pid_t pid = fork();
  if (pid != 0) {
    return pid;
  }
  setpgid(0, 0);
  int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  dup2(fd, 2);
  dup2(out_fd >= 0 ? out_fd : fd, 1);
  for (int i = 0; env != NULL && env[i] != NULL; i++) {
    putenv((char *)env[i]);
  }
  execv(argv[0], (char *const *)argv);
  fprintf(stderr, "execv %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* argv = prog, then args (NULL-terminated). Caller frees. */
static const char **make_argv(const char *prog, const char *extra, const char *const *args) {
  size_t n = 0;
  while (args != NULL && args[n] != NULL) {
    n++;
  }
  const char **argv = h_calloc(n + 3, sizeof(char *));
  size_t k = 0;
  argv[k++] = prog;
  if (extra != NULL) {
    argv[k++] = extra;
  }
  for (size_t i = 0; i < n; i++) {
    argv[k++] = args[i];
  }
  return argv;
}

/* Reads the READY line of a fake (10 s). */
static void read_ready(struct wt_proc *p, int fd) {
  char line[128] = "";
  size_t len = 0;
  double deadline = wt_now() + 10;
  while (wt_now() < deadline && strchr(line, '\n') == NULL && len < sizeof(line) - 1) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) == 1) {
      ssize_t n = read(fd, line + len, sizeof(line) - 1 - len);
      if (n <= 0) {
        break;
      }
      len += (size_t)n;
      line[len] = '\0';
    }
  }
  if (sscanf(line, "READY %d %d", &p->port, &p->control_port) < 1) {
    wt_proc_dump(p);
    fail_msg("fake %s did not become ready (got '%s')", p->log, line);
  }
}

void wt_fake_start(struct wt_proc *p, const char *script, const char *const *args) {
  memset(p, 0, sizeof(*p));
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", HERALD_FAKES_DIR, script);
  snprintf(p->log, sizeof(p->log), "%s/%s.%d.log", tmpdir, script, nprocs++);
  const char **argv = make_argv("/usr/bin/python3", path, args);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  p->pid = spawn(argv, NULL, fds[1], p->log);
  close(fds[1]);
  free(argv);
  read_ready(p, fds[0]);
  close(fds[0]);
}

void wt_worker_start(struct wt_proc *p, const char *bin, const char *const *args,
                     const char *const *env) {
  memset(p, 0, sizeof(*p));
  const char *name = strrchr(bin, '/') != NULL ? strrchr(bin, '/') + 1 : bin;
  snprintf(p->log, sizeof(p->log), "%s/%s.%d.log", tmpdir, name, nprocs++);
  const char **argv = make_argv(bin, NULL, args);
  p->pid = spawn(argv, env, -1, p->log);
  free(argv);
}

static int decode_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int wt_proc_wait(struct wt_proc *p, int timeout_s) {
  double deadline = wt_now() + timeout_s;
  while (p->pid > 0) {
    int status = 0;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
      p->pid = 0;
      return decode_status(status);
    }
    if (wt_now() > deadline) {
      return -1;
    }
    wt_sleep_ms(20);
  }
  return -1;
}

int wt_proc_signal(struct wt_proc *p, int sig, int timeout_s) {
  if (p->pid <= 0) {
    return -1;
  }
  kill(p->pid, sig);
  int rc = wt_proc_wait(p, timeout_s);
  if (rc < 0 && p->pid > 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
  }
  return rc;
}

void wt_proc_dump(const struct wt_proc *p) {
  /* Warnings and errors first (a run's cause is rarely in its last lines), then the tail. */
  char cmd[600];
  snprintf(cmd, sizeof(cmd),
           "grep -v '\"level\":\"\\(info\\|debug\\)\"' %s | tail -n 40 >&2; tail -n 15 %s >&2",
           p->log, p->log);
  fprintf(stderr, "---- %s ----\n", p->log);
  if (system(cmd) != 0) {
    fprintf(stderr, "(no log)\n");
  }
}

int wt_run(const char *bin, const char *const *args, const char *const *env, char **output,
           int timeout_s) {
  struct wt_proc p;
  wt_worker_start(&p, bin, args, env);
  int rc = wt_proc_wait(&p, timeout_s);
  if (rc < 0) {
    rc = wt_proc_signal(&p, SIGKILL, 5);
  }
  if (output != NULL) {
    FILE *f = fopen(p.log, "r");
    *output = NULL;
    size_t len = 0;
    if (f != NULL) {
      ssize_t n = getdelim(output, &len, '\0', f);
      fclose(f);
      if (n < 0) {
        free(*output);
        *output = NULL;
      }
    }
    if (*output == NULL) {
      *output = h_strdup("");
    }
  }
  unlink(p.log);
  return rc;
}

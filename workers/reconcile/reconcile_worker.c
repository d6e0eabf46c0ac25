/* reconcile_worker.c - herald-reconcile's loop: the queue protocol, the scheduler
 * tick and the draining shutdown. */
#include "reconcile_worker.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/db.h"
#include "core/log.h"
#include "queue/queue.h"
#include "reconcile/reconcile.h"
#include "reconcile/reconcile_jobs.h"
#include "reconcile_metrics.h"
#include "store/redis.h"
#include "store/redis_sentinel.h"

#define H_RW_MAX_ATTEMPTS 5
#define H_RW_SWEEP_S 5        /* how often a copy sweeps */
#define H_RW_SWEEP_QUIET_S 30 /* a due queued job untouched this long is pushed again */

struct rw_shared {
  struct h_app *app;
  const struct h_rw_options *opt;
  struct h_rmetrics *metrics; /* owned */
  char ready[128];
  atomic_long taken; /* --max-jobs slots held */
  atomic_long jobs;  /* jobs run */
};

struct rw_thread {
  struct rw_shared *sh;
  int index;
  pthread_t tid;
  char id[128]; /* worker id + thread: names its processing list */
  char proc[256];
  struct h_redis redis; /* its own */
  PGconn *conn;         /* its own; NULL while the database is down */
};


static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  if (g_stop) {
    _exit(1); /* a second signal: at once */
  }
  g_stop = 1;
}

void h_rw_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

static bool connect_redis(struct h_app *app, struct h_redis *r) {
  struct h_redis_target t;
  char *error = NULL; /* HERALD_REDIS_URL and the Sentinel settings */
  if (h_redis_target_from_config(app->cfg, &t, &error) != H_OK) {
    free(error);
    return false;
  }
  t.timeout_ms = app->cfg->redis_timeout_ms + 2000;
  h_redis_init(r, &t);
  return true;
}

int h_rw_tick(struct h_app *app, const char *worker_id, long every_s, bool *won) {
  struct h_redis r;
  *won = false;
  if (!connect_redis(app, &r)) {
    return 1;
  }
  char px[24];
  snprintf(px, sizeof(px), "%ld", every_s * 1000 + 1000);
  redisReply *rep = NULL;
  char key[96];
  snprintf(key, sizeof(key), "herald:lock:{reconcile}:tick:%ld:%ld", every_s,
           (long)(time(NULL) / every_s));
  h_result res = h_redis_cmd(&r, &rep, "SET %s %s NX PX %s", key, worker_id, px);
  *won = res == H_OK && rep != NULL && rep->type == REDIS_REPLY_STATUS;
  if (rep != NULL) {
    freeReplyObject(rep);
  }
  h_redis_close(&r);
  if (!*won) {
    return res == H_OK ? 0 : 1;
  }
  time_t now = time(NULL);
  json_t *ids = json_array();
  PGconn *conn = NULL;
  res = h_db_acquire(app->db, &conn);
  if (res == H_OK) {
    res = h_reconcile_jobs_tick(conn, now - now % 86400 - 86400, ids);
    h_db_release(app->db, conn);
  }
  for (size_t i = 0; res == H_OK && i < json_array_size(ids); i++) {
    const char *id = json_string_value(json_array_get(ids, i));
    h_reconcile_jobs_push(app, &id, 1);
  }
  h_log(H_LOG_INFO, "event", NULL, "reconcile tick by %s: %zu jobs pushed (%s)", worker_id,
        json_array_size(ids), h_result_name(res));
  json_decref(ids);
  return res == H_OK ? 0 : 1;
}

/* Runs a claimed job; H_OK when it is done. m counts what housekeeping removes. */
static h_result run_job(struct h_app *app, struct h_rmetrics *m,
                        const struct h_reconcile_job *job) {
  if (strcmp(job->kind, "payment_sync") == 0) {
    return h_reconcile_sync_payment(app, job->subject, false, NULL);
  }
  if (strcmp(job->kind, "refund_sync") == 0) {
    return h_reconcile_sync_refund(app, job->subject, false, NULL);
  }
  if (strcmp(job->kind, "ledger_run") == 0) {
    struct h_ledger_totals t;
    h_result r = h_reconcile_run_execute(app, job->subject, &t);
    return r == H_ERR_CONFLICT ? H_OK : r; /* already succeeded */
  }
  long deleted = 0, notifications = 0;
  h_result r = h_reconcile_housekeeping(app, app->cfg->audit_retention_days,
                                        app->cfg->event_retention_days, &deleted,
                                        &notifications);
  h_rmetrics_purged(m, deleted, notifications);
  h_log(H_LOG_INFO, "event", NULL, "housekeeping: %ld rows deleted (%ld notifications)",
        deleted, notifications);
  return r;
}

/* The thread's own PostgreSQL connection, (re)opened when needed; NULL while the
 * database is down. Owned by the thread. */
static PGconn *thread_conn(struct rw_thread *t) {
  if (t->conn != NULL && PQstatus(t->conn) == CONNECTION_OK) {
    return t->conn;
  }
  if (t->conn != NULL) {
    PQfinish(t->conn);
    t->conn = NULL;
  }
  const struct h_config *cfg = t->sh->app->cfg;
  struct h_db_options o = {
    .url = cfg->database_url,
    .pool_size = 1,
    .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
    .connect_timeout_s = cfg->db_connect_timeout_s,
    .statement_timeout_ms = cfg->db_statement_timeout_ms,
    .application_name = "herald-reconcile",
    .prepared_statements = cfg->db_prepared_statements,
  };
  (void)h_db_connect(&o, &t->conn); /* NULL on failure */
  return t->conn;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Claim, run, finish on the thread's connection. Returns whether a job was run. */
static bool process(struct rw_thread *t, const char *id) {
  struct rw_shared *sh = t->sh;
  struct h_reconcile_job job;
  PGconn *conn = thread_conn(t);
  h_result r = conn != NULL ? h_reconcile_jobs_claim(conn, id, &job) : H_ERR_UNAVAILABLE;
  if (r != H_OK) {
    h_rmetrics_job(sh->metrics, NULL, H_RM_DROPPED, 0);
    return false; /* not queued (a duplicate id) or the database is down */
  }
  h_rmetrics_in_flight(sh->metrics, 1);
  double t0 = mono_s();
  h_result done = run_job(sh->app, sh->metrics, &job);
  double secs = mono_s() - t0;
  h_rmetrics_in_flight(sh->metrics, -1);
  bool ok = done == H_OK || done == H_ERR_NOT_FOUND; /* an unknown subject: nothing to do */
  int retry = job.attempts < H_RW_MAX_ATTEMPTS ? 60 * job.attempts : -1;
  conn = thread_conn(t);
  if (conn != NULL) { /* else: left running; the tick returns it after 10 minutes */
    (void)h_reconcile_jobs_finish(conn, &job, ok, ok ? NULL : h_result_name(done), retry);
  }
  h_rmetrics_job(sh->metrics, job.kind, ok ? H_RM_DONE : retry >= 0 ? H_RM_RETRY : H_RM_FAILED,
                 secs);
  h_log(ok ? H_LOG_INFO : H_LOG_WARNING, "event", NULL, "reconcile job %s %s %s: %s", job.id,
        job.kind, job.subject, h_result_name(done));
  return true;
}

/* Pushes again the due queued jobs nobody touched for a while (a failed job whose
 * retry delay has passed, an id Redis lost): pushed after the bump commits. */
static void sweep(struct rw_thread *t) {
  PGconn *conn = thread_conn(t);
  if (conn == NULL) {
    return;
  }
  json_t *ids = json_array();
  if (h_reconcile_jobs_sweep(conn, H_RW_SWEEP_QUIET_S, 1000, ids) == H_OK &&
      json_array_size(ids) > 0) {
    size_t n = json_array_size(ids);
    const char **v = h_malloc(n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
      v[i] = json_string_value(json_array_get(ids, i));
    }
    h_reconcile_jobs_push(t->sh->app, v, n);
    h_rmetrics_swept(t->sh->metrics, (long)n);
    h_log(H_LOG_INFO, "event", NULL, "reconcile sweep by %s: %zu due jobs pushed again", t->id,
          n);
    free(v);
  }
  json_decref(ids);
}

/* Moves what a previous run of this worker left in its processing list back. */
static void recover(struct h_redis *r, const char *ready, const char *proc) {
  for (int i = 0; i < 10000; i++) {
    redisReply *rep = NULL;
    if (h_redis_cmd(r, &rep, "LMOVE %s %s RIGHT RIGHT", proc, ready) != H_OK || rep == NULL ||
        rep->type != REDIS_REPLY_STRING) {
      if (rep != NULL) {
        freeReplyObject(rep);
      }
      return;
    }
    freeReplyObject(rep);
  }
}

/* BLMOVE one id into proc (out, "" when none within the block time). */
static h_result fetch(struct h_redis *r, const char *ready, const char *proc, char out[64]) {
  redisReply *rep = NULL;
  out[0] = '\0';
  h_result res = h_redis_cmd(r, &rep, "BLMOVE %s %s RIGHT LEFT 1", ready, proc);
  if (res == H_OK && rep != NULL && rep->type == REDIS_REPLY_STRING) {
    snprintf(out, 64, "%s", rep->str);
  }
  if (rep != NULL) {
    freeReplyObject(rep);
  }
  return res;
}

/* --dry-run: prints the ids waiting in the ready list, changes nothing. */
static int list_ready(struct h_redis *r, const char *ready) {
  redisReply *rep = NULL;
  h_result res = h_redis_cmd(r, &rep, "LRANGE %s 0 -1", ready);
  for (size_t i = 0; res == H_OK && rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
                     i < rep->elements; i++) {
    printf("%s\n", rep->element[i]->str != NULL ? rep->element[i]->str : "");
  }
  if (rep != NULL) {
    freeReplyObject(rep);
  }
  h_redis_close(r);
  return res == H_OK ? 0 : 1;
}

/* Thread 0's extra duties: the --every tick, the sweep and the queue depth. */
static void duties(struct rw_thread *t, time_t *next_tick, time_t *next_sweep) {
  const struct h_rw_options *opt = t->sh->opt;
  if (opt->every_s > 0 && time(NULL) >= *next_tick) {
    bool won = false;
    (void)h_rw_tick(t->sh->app, opt->worker_id, opt->every_s, &won);
    *next_tick = time(NULL) + opt->every_s;
  }
  if (time(NULL) >= *next_sweep) {
    sweep(t);
    *next_sweep = time(NULL) + H_RW_SWEEP_S;
  }
  redisReply *rep = NULL;
  if (h_redis_cmd(&t->redis, &rep, "LLEN %s", t->sh->ready) == H_OK && rep != NULL &&
      rep->type == REDIS_REPLY_INTEGER) {
    h_rmetrics_depth(t->sh->metrics, rep->integer);
  }
  if (rep != NULL) {
    freeReplyObject(rep);
  }
}

/* One thread: BLMOVE into its own processing list, claim, run, finish, LREM. */
static void *thread_main(void *arg) {
  struct rw_thread *t = arg;
  struct rw_shared *sh = t->sh;
  const struct h_rw_options *opt = sh->opt;
  recover(&t->redis, sh->ready, t->proc);
  time_t next_tick = 0, next_sweep = 0;
  while (!g_stop) {
    if (t->index == 0) {
      duties(t, &next_tick, &next_sweep);
    }
    if (opt->max_jobs > 0 && atomic_fetch_add(&sh->taken, 1) >= opt->max_jobs) {
      break; /* the others hold the remaining slots */
    }
    char id[64];
    h_result res = fetch(&t->redis, sh->ready, t->proc, id);
    bool ran = res == H_OK && id[0] != '\0' && process(t, id);
    if (opt->max_jobs > 0 && !ran) {
      atomic_fetch_sub(&sh->taken, 1);
    }
    if (ran) {
      atomic_fetch_add(&sh->jobs, 1);
    }
    if (res != H_OK) {
      sleep(1); /* Redis down: the connection reconnects on the next call */
      continue;
    }
    if (id[0] == '\0') {
      if (opt->once) {
        break;
      }
      continue;
    }
    redisReply *rep = NULL;
    if (h_redis_cmd(&t->redis, &rep, "LREM %s 1 %s", t->proc, id) == H_OK && rep != NULL) {
      freeReplyObject(rep);
    }
  }
  return NULL;
}

/* Starts the metrics server when asked; false when it cannot listen. */
static bool start_metrics(struct rw_shared *sh) {
  sh->metrics = h_rmetrics_create();
  if (sh->opt->metrics_port <= 0) {
    return true;
  }
  int bound = 0;
  if (h_rmetrics_serve_start(sh->metrics, sh->opt->metrics_port, &bound) != H_OK) {
    return false;
  }
  h_log(H_LOG_INFO, "event", NULL, "%s: metrics on http://127.0.0.1:%d/metrics",
        sh->opt->worker_id, bound);
  return true;
}

int h_rw_run(struct h_app *app, const struct h_rw_options *opt) {
  struct rw_shared sh = {.app = app, .opt = opt};
  h_queue_ready_key(H_QUEUE_RECONCILE, sh.ready, sizeof(sh.ready));
  if (opt->dry_run) {
    struct h_redis r;
    return connect_redis(app, &r) ? list_ready(&r, sh.ready) : 78;
  }
  int n = opt->concurrency > 0 ? opt->concurrency : 1;
  struct rw_thread *th = h_calloc((size_t)n, sizeof(*th));
  for (int i = 0; i < n; i++) {
    th[i].sh = &sh;
    th[i].index = i;
    snprintf(th[i].id, sizeof(th[i].id), "%s-t%d", opt->worker_id, i);
    h_queue_processing_key(H_QUEUE_RECONCILE, th[i].id, th[i].proc, sizeof(th[i].proc));
    if (!connect_redis(app, &th[i].redis)) {
      for (int k = 0; k < i; k++) {
        h_redis_close(&th[k].redis);
      }
      free(th);
      return 78;
    }
  }
  int status = 0;
  if (!start_metrics(&sh)) {
    status = 1;
  } else {
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread calls the provider */
    for (int i = 0; i < n; i++) {
      pthread_create(&th[i].tid, NULL, thread_main, &th[i]);
    }
    for (int i = 0; i < n; i++) {
      pthread_join(th[i].tid, NULL);
    }
  }
  for (int i = 0; i < n; i++) {
    h_redis_close(&th[i].redis);
    if (th[i].conn != NULL) {
      PQfinish(th[i].conn);
    }
  }
  h_rmetrics_destroy(sh.metrics);
  free(th);
  h_log(H_LOG_INFO, "event", NULL, "herald-reconcile %s stopped after %ld jobs (%d threads)",
        opt->worker_id, atomic_load(&sh.jobs), n);
  return status;
}

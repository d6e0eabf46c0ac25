/* reconcile_worker.c - herald-reconcile's loop: the queue protocol, the scheduler
 * tick and the draining shutdown. */
#include "reconcile_worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "queue.h"
#include "reconcile.h"
#include "reconcile_jobs.h"
#include "redis.h"
#include "redis_sentinel.h" /* deploy */

#define H_RW_MAX_ATTEMPTS 5

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
  char *error = NULL; /* deploy: HERALD_REDIS_URL and the Sentinel settings */
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
    res = h_recon_jobs_tick(conn, now - now % 86400 - 86400, ids);
    h_db_release(app->db, conn);
  }
  for (size_t i = 0; res == H_OK && i < json_array_size(ids); i++) {
    const char *id = json_string_value(json_array_get(ids, i));
    h_recon_jobs_push(app, &id, 1);
  }
  h_log(H_LOG_INFO, "event", NULL, "reconcile tick by %s: %zu jobs pushed (%s)", worker_id,
        json_array_size(ids), h_result_name(res));
  json_decref(ids);
  return res == H_OK ? 0 : 1;
}

/* Runs a claimed job; H_OK when it is done. */
static h_result run_job(struct h_app *app, const struct h_recon_job *job) {
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
  long deleted = 0;
  h_result r = h_reconcile_housekeeping(app, app->cfg->audit_retention_days,
                                        app->cfg->event_retention_days, &deleted);
  h_log(H_LOG_INFO, "event", NULL, "housekeeping: %ld rows deleted", deleted);
  return r;
}

/* Claim, run, finish. Returns whether a job was run. */
static bool process(struct h_app *app, const char *id) {
  struct h_recon_job job;
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_recon_jobs_claim(conn, id, &job);
    h_db_release(app->db, conn);
  }
  if (r != H_OK) {
    return false; /* not queued (a duplicate id) or the database is down */
  }
  h_result done = run_job(app, &job);
  bool ok = done == H_OK || done == H_ERR_NOT_FOUND; /* an unknown subject: nothing to do */
  int retry = job.attempts < H_RW_MAX_ATTEMPTS ? 60 * job.attempts : -1;
  if (h_db_acquire(app->db, &conn) == H_OK) {
    r = h_recon_jobs_finish(conn, &job, ok, ok ? NULL : h_result_name(done), retry);
    h_db_release(app->db, conn);
  }
  h_log(ok ? H_LOG_INFO : H_LOG_WARNING, "event", NULL, "reconcile job %s %s %s: %s", job.id,
        job.kind, job.subject, h_result_name(done));
  return true;
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

int h_rw_run(struct h_app *app, const struct h_rw_options *opt) {
  struct h_redis r;
  if (!connect_redis(app, &r)) {
    return 78;
  }
  char ready[128], proc[256];
  h_queue_ready_key(H_QUEUE_RECONCILE, ready, sizeof(ready));
  h_queue_processing_key(H_QUEUE_RECONCILE, opt->worker_id, proc, sizeof(proc));
  if (opt->dry_run) {
    return list_ready(&r, ready);
  }
  recover(&r, ready, proc);
  long jobs = 0;
  time_t next_tick = 0;
  while (!g_stop && (opt->max_jobs == 0 || jobs < opt->max_jobs)) {
    if (opt->every_s > 0 && time(NULL) >= next_tick) {
      bool won = false;
      (void)h_rw_tick(app, opt->worker_id, opt->every_s, &won);
      next_tick = time(NULL) + opt->every_s;
    }
    char id[64];
    if (fetch(&r, ready, proc, id) != H_OK) {
      sleep(1); /* Redis down: the connection reconnects on the next call */
      continue;
    }
    if (id[0] == '\0') {
      if (opt->once) {
        break;
      }
      continue;
    }
    jobs += process(app, id) ? 1 : 0;
    redisReply *rep = NULL;
    if (h_redis_cmd(&r, &rep, "LREM %s 1 %s", proc, id) == H_OK && rep != NULL) {
      freeReplyObject(rep);
    }
  }
  h_redis_close(&r);
  h_log(H_LOG_INFO, "event", NULL, "herald-reconcile %s stopped after %ld jobs",
        opt->worker_id, jobs);
  return 0;
}

/* conn.c - a thread's connections, reconnect backoff and the watchdog hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "rt.h"

long long h_rt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double h_rt_wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool h_rt_sleep(int ms, const atomic_bool *flag) {
  while (ms > 0) {
    if (flag != NULL && atomic_load(flag)) {
      return false;
    }
    int slice = ms < 50 ? ms : 50;
    struct timespec ts = {0, (long)slice * 1000000L};
    nanosleep(&ts, NULL);
    ms -= slice;
  }
  return flag == NULL || !atomic_load(flag);
}

bool h_rt_backoff(struct h_wthread *t, int *attempt, const atomic_bool *flag) {
  long long ms = h_backoff_ms(*attempt + 1, 100, 5000, h_rng_unit(&t->rng));
  if (*attempt < 16) {
    (*attempt)++;
  }
  return h_rt_sleep((int)ms, flag);
}

void h_rt_thread_init(struct h_rt *rt, struct h_wthread *t, int index, const char *suffix) {
  memset(t, 0, sizeof(*t));
  t->rt = rt;
  t->index = index;
  snprintf(t->worker_id, sizeof(t->worker_id), "%s/%s", rt->base_id, suffix);
  h_queue_processing_key(rt->def->queue, t->worker_id, t->proc_key, sizeof(t->proc_key));
  h_queue_heartbeat_key(rt->def->queue, t->worker_id, t->hb_key, sizeof(t->hb_key));
  h_redis_init(&t->redis, &rt->redis_target);
  pthread_mutex_init(&t->watch.lock, NULL);
  t->watch.fd = -1;
  if (h_random_bytes((unsigned char *)&t->rng, sizeof(t->rng)) != H_OK || t->rng == 0) {
    t->rng = (uint64_t)getpid() * 2654435761u + (uint64_t)index + 1;
  }
}

void h_rt_thread_close(struct h_wthread *t) {
  pthread_mutex_lock(&t->watch.lock);
  h_redis_close(&t->redis);
  if (t->pg != NULL) {
    PQfinish(t->pg);
    t->pg = NULL;
  }
  pthread_mutex_unlock(&t->watch.lock);
  pthread_mutex_destroy(&t->watch.lock);
}

/* A backend whose socket the watchdog cut may still be alive behind a silent
 * network or a stalled server, holding the row locks of its open transaction (a
 * claim, a record) until TCP gives up, and every retry of that job would wait on
 * them. Ask PostgreSQL, from the fresh connection, to end it; the guard on user and
 * application name keeps a recycled pid from being hit. */
static void terminate_cut_backend(struct h_wthread *t) {
  pthread_mutex_lock(&t->watch.lock);
  int pid = t->watch.cut_backend;
  t->watch.cut_backend = 0;
  pthread_mutex_unlock(&t->watch.lock);
  if (pid <= 0 || pid == PQbackendPID(t->pg)) {
    return;
  }
  char spid[16];
  snprintf(spid, sizeof(spid), "%d", pid);
  const char *params[] = {spid};
  PGresult *res = NULL;
  h_rt_watch_begin(t, "terminating a cut backend", PQsocket(t->pg),
                   t->rt->db_opts.statement_timeout_ms);
  h_result r = h_db_exec(t->pg,
                         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE pid = $1::int AND usename = current_user"
                         "   AND application_name = current_setting('application_name')",
                         1, params, &res);
  h_rt_watch_end(t);
  if (r == H_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
    h_log_warning("%s: terminated PostgreSQL backend %d of the connection the watchdog cut,"
                  " so its locks are released", t->worker_id, pid);
  }
  PQclear(res);
}

h_result h_rt_pg(struct h_wthread *t) {
  if (t->pg != NULL && PQstatus(t->pg) == CONNECTION_OK) {
    return H_OK;
  }
  h_rt_pg_check(t);
  PGconn *c = NULL;
  /* A worker thread's statements look rows up by key, a batch at a time: plans made
   * once per connection (db.h batch_plans). The maintenance thread's scans keep
   * plans made for their parameters. */
  struct h_db_options opts = t->rt->db_opts;
  opts.batch_plans = t->index >= 0;
  h_rt_watch_begin(t, "PostgreSQL connect", -1, t->rt->cfg->db_connect_timeout_s * 1000);
  h_result r = h_db_connect(&opts, &c);
  h_rt_watch_end(t);
  if (r == H_OK) {
    pthread_mutex_lock(&t->watch.lock);
    t->pg = c;
    pthread_mutex_unlock(&t->watch.lock);
    h_wmetrics_reconnect(t->rt->metrics);
    terminate_cut_backend(t);
  }
  return r;
}

void h_rt_pg_check(struct h_wthread *t) {
  if (t->pg != NULL && PQstatus(t->pg) != CONNECTION_OK) {
    pthread_mutex_lock(&t->watch.lock);
    PQfinish(t->pg);
    t->pg = NULL;
    pthread_mutex_unlock(&t->watch.lock);
  }
}

void h_rt_watch_begin(struct h_wthread *t, const char *what, int fd, int timeout_ms) {
  pthread_mutex_lock(&t->watch.lock);
  t->watch.fd = fd;
  t->watch.what = what;
  t->watch.reported = false;
  t->watch.deadline_ms = h_rt_now_ms() + timeout_ms + t->rt->cfg->worker_watchdog_grace_ms;
  pthread_mutex_unlock(&t->watch.lock);
}

void h_rt_watch_end(struct h_wthread *t) {
  pthread_mutex_lock(&t->watch.lock);
  t->watch.fd = -1;
  t->watch.deadline_ms = 0;
  pthread_mutex_unlock(&t->watch.lock);
}

h_result h_rt_redis(struct h_wthread *t, redisReply **reply, int argc, const char **argv,
                    int timeout_ms) {
  if (t->redis.broken) {
    /* Close under the watch lock, so the watchdog never cuts a reused descriptor. */
    pthread_mutex_lock(&t->watch.lock);
    h_redis_close(&t->redis);
    pthread_mutex_unlock(&t->watch.lock);
  }
  bool fresh = t->redis.ctx == NULL;
  int fd = t->redis.ctx != NULL ? t->redis.ctx->fd : -1;
  h_rt_watch_begin(t, argv[0], fd, timeout_ms);
  h_result r = h_redis_argv(&t->redis, reply, argc, argv);
  h_rt_watch_end(t);
  if (fresh && t->redis.ctx != NULL) {
    h_wmetrics_reconnect(t->rt->metrics);
  }
  return r;
}

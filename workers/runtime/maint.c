/* maint.c - two background threads.
 *
 * The heartbeat thread (Redis only, so PostgreSQL trouble never delays it)
 * refreshes the heartbeat key of every healthy thread and runs the watchdog.
 * The maintenance thread promotes due retries, runs the reaper and the
 * PostgreSQL sweeper and samples queue depths, on its own connections
 * (rt->maint); ids it takes from dead workers wait in its own processing list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/alloc.h"
#include "core/log.h"
#include "queue/queue_stats.h"
#include "breaker.h"
#include "rt.h"
#include "queue/sweeper.h"

struct schedule {
  long long promote, reap, sweep, gauges;
};

/* True when t is inside a call past its deadline. */
static bool wedged(struct h_wthread *t, long long now) {
  pthread_mutex_lock(&t->watch.lock);
  bool late = t->watch.deadline_ms != 0 && now > t->watch.deadline_ms;
  pthread_mutex_unlock(&t->watch.lock);
  return late;
}

/* Refreshes the heartbeat of every thread that is not wedged. */
static void heartbeat(struct h_rt *rt, long long now) {
  const char **keys = h_malloc(((size_t)rt->nthreads + 1) * sizeof(char *));
  int n = 0;
  if (!wedged(&rt->maint, now)) {
    keys[n++] = rt->maint.hb_key;
  }
  for (int i = 0; i < rt->nthreads; i++) {
    struct h_wthread *t = &rt->threads[i];
    if (!wedged(t, now) && !atomic_load(&t->finished)) {
      keys[n++] = t->hb_key;
    }
  }
  h_result r = h_rt_heartbeat(&rt->hb, keys, n, rt->cfg->worker_heartbeat_ttl_ms);
  free(keys);
  bool was_ok = atomic_load(&rt->heartbeat_ok);
  atomic_store(&rt->heartbeat_ok, r == H_OK);
  if (r == H_OK && !was_ok) {
    h_log_info("%s: heartbeat up (%d thread(s))", rt->base_id, n - 1);
  } else if (r != H_OK && was_ok) {
    h_log_warning("%s: heartbeat failed (%s); fetching paused until Redis answers",
                  rt->base_id, h_result_name(r));
  }
}

static void promote(struct h_rt *rt) {
  size_t n = 0;
  h_result r = h_sweeper_promote_due(&rt->maint.redis, rt->def->queue, h_rt_wall(), 1000, NULL,
                                     &n);
  if (r == H_OK && n > 0) {
    h_log_debug("%s: %zu due job(s) promoted to %s", rt->base_id, n, rt->ready_key);
  }
}

/* One locked pass of the shared sweeper plus our channel's stale-processing check. */
static void sweep(struct h_rt *rt) {
  struct h_wthread *m = &rt->maint;
  int ttl = rt->cfg->worker_sweep_interval_s * 1000;
  if (!h_rt_lock(m, "herald:lock:sweeper", m->worker_id, ttl)) {
    return; /* another process sweeps this round */
  }
  if (h_rt_pg(m) == H_OK) {
    struct h_sweeper_options opt = {.stale_s = rt->cfg->worker_stale_after_s, .batch = 500};
    struct h_sweep_stats st = {0};
    h_rt_watch_begin(m, "sweep", PQsocket(m->pg), 60000);
    h_result r = h_sweeper_run_once(m->pg, &m->redis, &opt, &st);
    h_rt_watch_end(m);
    if (r != H_OK) {
      h_rt_pg_check(m);
      h_log_warning("%s: sweep failed (%s)", rt->base_id, h_result_name(r));
    } else if (st.repushed + st.rescheduled > 0) {
      h_log_info("%s: sweeper pushed %ld stale queued and %ld overdue scheduled job(s)",
                 rt->base_id, st.repushed, st.rescheduled);
    }
  }
  h_rt_sweep_stale(rt, m);
  /* the lock expires by itself: at most one pass per interval across processes */
}

static void gauges(struct h_rt *rt) {
  struct h_queue_counts c;
  if (h_queue_counts(&rt->maint.redis, rt->def->queue, &c) == H_OK) {
    h_wmetrics_depth(rt->metrics, H_DEPTH_READY, c.ready);
    h_wmetrics_depth(rt->metrics, H_DEPTH_PROCESSING, c.processing);
    h_wmetrics_depth(rt->metrics, H_DEPTH_DELAYED, c.delayed);
    h_wmetrics_depth(rt->metrics, H_DEPTH_DEAD, c.dead);
  }
}

/* Cuts the socket of a call that outlived its deadline, so the blocked thread
 * gets an error and reconnects; reports calls with no socket to cut. */
static void watchdog_one(struct h_rt *rt, struct h_wthread *t, long long now) {
  pthread_mutex_lock(&t->watch.lock);
  struct h_watch *w = &t->watch;
  if (w->deadline_ms != 0 && now > w->deadline_ms && !w->reported) {
    w->reported = true;
    long long late = now - w->deadline_ms;
    if (w->fd >= 0) {
      if (t->pg != NULL && w->fd == PQsocket(t->pg)) {
        w->cut_backend = PQbackendPID(t->pg); /* its locks outlive our socket: see h_rt_pg */
      }
      shutdown(w->fd, SHUT_RDWR);
      h_wmetrics_watchdog(rt->metrics);
      h_log_error("%s: %s silent for %lld ms past its deadline: connection cut", t->worker_id,
                  w->what, late);
    } else {
      h_log_error("%s: %s stuck %lld ms past its deadline: heartbeat withheld, its job will be "
                  "recovered", t->worker_id, w->what, late);
    }
  }
  pthread_mutex_unlock(&t->watch.lock);
}

static void watchdog(struct h_rt *rt, long long now) {
  for (int i = 0; i < rt->nthreads; i++) {
    watchdog_one(rt, &rt->threads[i], now);
  }
  watchdog_one(rt, &rt->maint, now);
}

/* True when heartbeats can be trusted: Redis has been up for longer than a heartbeat
 * TTL (after a Redis restart every worker needs that long to put its heartbeats
 * back), and ours reach it. */
static bool redis_settled(struct h_rt *rt) {
  const char *argv[] = {"INFO", "server"};
  redisReply *reply = NULL;
  long long uptime_s = -1;
  if (h_rt_redis(&rt->maint, &reply, 2, argv, rt->cfg->redis_timeout_ms) == H_OK &&
      reply->type == REDIS_REPLY_STRING) {
    const char *p = strstr(reply->str, "uptime_in_seconds:");
    uptime_s = p != NULL ? strtoll(p + 18, NULL, 10) : -1;
  }
  freeReplyObject(reply);
  return atomic_load(&rt->heartbeat_ok) &&
         uptime_s * 1000 >= (long long)rt->cfg->worker_heartbeat_ttl_ms + 1000;
}

/* Runs every maintenance task that is due. */
static void tick(struct h_rt *rt, struct schedule *s) {
  const struct h_config *cfg = rt->cfg;
  long long now = h_rt_now_ms();
  if (!atomic_load(&rt->heartbeat_ok)) {
    return;
  }
  if (now >= s->promote) {
    promote(rt);
    s->promote = now + cfg->worker_promote_interval_ms;
  }
  if (now >= s->reap) {
    if (redis_settled(rt)) {
      h_rt_reap(rt, &rt->maint);
    }
    s->reap = now + cfg->worker_reap_interval_ms;
  }
  if (now >= s->sweep) {
    sweep(rt);
    s->sweep = now + (long long)cfg->worker_sweep_interval_s * 1000;
  }
  if (rt->metrics_on && now >= s->gauges) {
    gauges(rt);
    h_breaker_sample(rt, &rt->maint);
    s->gauges = now + 1000;
  }
}

void *h_rt_maint_thread(void *arg) {
  struct h_rt *rt = arg;
  struct schedule s = {0};
  s.sweep = h_rt_now_ms() + 1000; /* let the workers start first */
  int tick_ms = rt->cfg->worker_promote_interval_ms < 100 ? rt->cfg->worker_promote_interval_ms
                                                          : 100;
  while (!atomic_load(&rt->maint_stop)) {
    tick(rt, &s);
    h_rt_sleep(tick_ms, &rt->maint_stop);
  }
  return NULL;
}

void *h_rt_heartbeat_thread(void *arg) {
  struct h_rt *rt = arg;
  long long next = 0;
  while (!atomic_load(&rt->maint_stop)) {
    long long now = h_rt_now_ms();
    watchdog(rt, now);
    if (now >= next) {
      heartbeat(rt, now);
      /* a third of the TTL; after a failure, try again soon */
      next = now + (atomic_load(&rt->heartbeat_ok) ? rt->cfg->worker_heartbeat_ttl_ms / 3 : 200);
    }
    h_rt_sleep(50, &rt->maint_stop);
  }
  return NULL;
}

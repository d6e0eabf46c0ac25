/* background.c - sweeper and fan-out threads of the API. */
#include "app/background.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "channels/cap_alert.h"
#include "channels/digest_service.h"
#include "channels/webhook_endpoint_service.h"
#include "core/alloc.h"
#include "inbox/stream_bus.h"
#include "store/db.h"
#include "notifications/fanout.h"
#include "store/idempotency.h"
#include "core/log.h"
#include "store/redis_sentinel.h"
#include "notifications/outbox.h"
#include "queue/sweeper.h"

#define PURGE_EVERY_S 300
#define FANOUT_LEASE_S 60

struct h_background {
  struct h_app *app;        /* borrowed */
  atomic_bool stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;        /* signalled on stop */
  pthread_t sweeper, fanout;
  bool sweeper_on, fanout_on;
};

/* Sleeps ms unless stopped meanwhile; returns true when stopping. */
static bool wait_ms(struct h_background *bg, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&bg->mu);
  int rc = 0;
  while (!atomic_load(&bg->stop) && rc != ETIMEDOUT) {
    rc = pthread_cond_timedwait(&bg->cv, &bg->mu, &until);
  }
  pthread_mutex_unlock(&bg->mu);
  return atomic_load(&bg->stop);
}

/* The thread's own PostgreSQL connection, (re)opened when missing or broken. */
static PGconn *connection(struct h_background *bg, PGconn *conn, const char *name) {
  if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
    return conn;
  }
  PQfinish(conn);
  const struct h_config *cfg = bg->app->cfg;
  struct h_db_options o = {.url = cfg->database_url, .pool_size = 1,
                           .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
                           .connect_timeout_s = cfg->db_connect_timeout_s,
                           .statement_timeout_ms = cfg->db_statement_timeout_ms,
                           .application_name = name,
                           .prepared_statements = cfg->db_prepared_statements};
  PGconn *fresh = NULL;
  return h_db_connect(&o, &fresh) == H_OK ? fresh : NULL;
}

static void redis_of(const struct h_app *app, struct h_redis *r) {
  struct h_redis_target target;
  char *error = NULL; /* URL + Sentinel; h_app_init already validated the config */
  h_redis_target_from_config(app->cfg, &target, &error);
  free(error);
  h_redis_init(r, &target);
}

static void log_sweep(const struct h_sweep_stats *s) {
  if (s->promoted + s->repushed + s->rescheduled + s->in_app_sent > 0) {
    h_log(H_LOG_INFO, NULL, NULL,
          "sweeper: promoted %ld, re-pushed %ld queued, %ld overdue scheduled, %ld in-app sent",
          s->promoted, s->repushed, s->rescheduled, s->in_app_sent);
  }
}

/* How long a one-time link lives: past it, a sensitive notification's content goes. */
static int link_lifetime(const struct h_config *cfg) {
  return cfg->reset_token_ttl_s > cfg->verify_token_ttl_s ? cfg->reset_token_ttl_s
                                                          : cfg->verify_token_ttl_s;
}

static void *sweeper_main(void *arg) {
  struct h_background *bg = arg;
  pthread_setname_np(pthread_self(), "sweeper"); /* top -H, perf --sort comm */
  const struct h_config *cfg = bg->app->cfg;
  struct h_sweeper_options opt = {cfg->sweep_stale_s, cfg->sweep_batch};
  struct h_redis redis;
  redis_of(bg->app, &redis);
  PGconn *conn = NULL;
  time_t last_purge = 0;
  do {
    conn = connection(bg, conn, "herald-api-sweeper");
    if (conn == NULL) {
      continue;
    }
    struct h_sweep_stats stats = {0};
    if (h_sweeper_run_once(conn, &redis, &opt, &stats) != H_OK) {
      h_log_warning("sweeper: pass failed; retrying in %d s", cfg->sweep_interval_s);
    }
    log_sweep(&stats);
    if (stats.in_app_sent > 0) { /* due in-app notifications: the streams read them */
      h_stream_publish_all(&redis);
    }
    long told = 0, digests = 0;
    if (h_digest_run(conn, &redis, &bg->app->flood, &digests) == H_OK && digests > 0) {
      h_log(H_LOG_INFO, NULL, NULL, "sweeper: sent %ld digest(s)", digests);
    }
    h_cap_alert_run(conn, &redis, NULL);
    if (h_endpoint_notify_disabled(conn, &redis, &told) == H_OK && told > 0) {
      h_log(H_LOG_INFO, NULL, NULL, "sweeper: told the owners of %ld disabled webhook endpoint(s)",
            told);
    }
    if (time(NULL) - last_purge >= PURGE_EVERY_S &&
        h_idem_purge(conn, cfg->idempotency_ttl_s, NULL) == H_OK &&
        h_outbox_clear_expired(conn, link_lifetime(cfg), NULL) == H_OK) {
      last_purge = time(NULL);
    }
  } while (!wait_ms(bg, cfg->sweep_interval_s * 1000L));
  PQfinish(conn);
  h_redis_close(&redis);
  return NULL;
}

static void *fanout_main(void *arg) {
  struct h_background *bg = arg;
  pthread_setname_np(pthread_self(), "fanout"); /* top -H, perf --sort comm */
  const struct h_config *cfg = bg->app->cfg;
  struct h_fanout_options opt = {cfg->fanout_batch, FANOUT_LEASE_S, &bg->stop,
                                 cfg->stream_shards, &bg->app->flood};
  struct h_redis redis;
  redis_of(bg->app, &redis);
  PGconn *conn = NULL;
  bool worked = false;
  do {
    conn = connection(bg, conn, "herald-api-fanout");
    worked = false;
    if (conn != NULL && h_fanout_run_one(conn, &redis, &opt, &worked) != H_OK) {
      h_log_warning("fan-out: batch failed; retrying in %d ms", cfg->fanout_poll_ms);
      worked = false;
    }
  } while (worked ? !atomic_load(&bg->stop) : !wait_ms(bg, cfg->fanout_poll_ms));
  PQfinish(conn);
  h_redis_close(&redis);
  return NULL;
}

struct h_background *h_background_start(struct h_app *app) {
  struct h_background *bg = h_calloc(1, sizeof(*bg));
  bg->app = app;
  atomic_init(&bg->stop, false);
  pthread_mutex_init(&bg->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&bg->cv, &attr);
  pthread_condattr_destroy(&attr);
  if (app->cfg->sweep_interval_s > 0) {
    bg->sweeper_on = pthread_create(&bg->sweeper, NULL, sweeper_main, bg) == 0;
  }
  if (app->cfg->fanout_poll_ms > 0) {
    bg->fanout_on = pthread_create(&bg->fanout, NULL, fanout_main, bg) == 0;
  }
  return bg;
}

void h_background_stop(struct h_background *bg) {
  if (bg == NULL) {
    return;
  }
  pthread_mutex_lock(&bg->mu);
  atomic_store(&bg->stop, true);
  pthread_cond_broadcast(&bg->cv);
  pthread_mutex_unlock(&bg->mu);
  if (bg->sweeper_on) {
    pthread_join(bg->sweeper, NULL);
  }
  if (bg->fanout_on) {
    pthread_join(bg->fanout, NULL);
  }
  pthread_cond_destroy(&bg->cv);
  pthread_mutex_destroy(&bg->mu);
  free(bg);
}

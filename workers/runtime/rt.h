/* rt.h - internals of the worker runtime shared by its files (not for providers).
 *
 * One struct h_rt per process. Each worker thread (struct h_wthread) owns one
 * Redis connection, one PostgreSQL connection and one processing list
 * herald:q:{q}:proc:<worker-id> with its heartbeat herald:hb:{q}:<worker-id>.
 * The maintenance thread (maint.c) owns its own connections and refreshes the
 * heartbeats, promotes due retries, reaps dead workers, sweeps PostgreSQL and
 * runs the watchdog.
 *
 * Ownership: every pointer these functions take is borrowed for the call; the
 * Redis replies they hand out are freed by the caller with freeReplyObject(). */
#ifndef HERALD_WORKER_RT_H
#define HERALD_WORKER_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store/db.h"
#include "store/redis.h"
#include "wmetrics.h"
#include "core/flood.h"
#include "worker.h"

#define H_WORKER_ID_LEN 96
#define H_KEY_LEN 192

/* ---- the command line (cli.c) ---- */

enum h_worker_cmd {
  H_CMD_RUN,
  H_CMD_DLQ_LIST,
  H_CMD_DLQ_REPLAY,
  H_CMD_DLQ_PURGE,
  H_CMD_STATS,
  H_CMD_HELP,
  H_CMD_VERSION,
  H_CMD_CHECK_CONFIG,
};

struct h_worker_opts {
  enum h_worker_cmd cmd;
  int concurrency;          /* 0: HERALD_WORKER_CONCURRENCY */
  int batch;                /* 0: HERALD_WORKER_BATCH (ids per fetch/claim/record) */
  int in_flight;            /* 0: HERALD_WORKER_IN_FLIGHT (provider requests at once) */
  bool once;
  bool dry_run;
  long max_jobs;            /* 0: no limit */
  const char *log_level;    /* NULL: HERALD_LOG_LEVEL; borrowed from argv */
  int metrics_port;         /* -1: HERALD_WORKER_METRICS_PORT */
  const char *replay_id;    /* dlq replay --id, borrowed from argv */
  bool replay_all;          /* dlq replay --all */
  long older_than_s;        /* dlq purge --older-than, -1: everything */
  int limit;                /* dlq list --limit */
  bool json;                /* stats --json */
};

/* Parses argv into o. Returns 0, or 2 with a message in err for bad usage. */
int h_cli_parse(int argc, char **argv, struct h_worker_opts *o, char *err, size_t errlen);
void h_cli_usage(FILE *out, const char *program);

/* "90", "90s", "15m", "2h", "7d" -> seconds; -1 when malformed. Pure. */
long h_parse_duration(const char *s);

/* ---- the watchdog's view of one thread (maint.c) ---- */

struct h_watch {
  pthread_mutex_t lock;   /* held while the fd is published, cut or closed */
  int fd;                 /* socket of the blocking call in progress, -1 when none */
  long long deadline_ms;  /* monotonic ms after which the call is overdue; 0: idle */
  const char *what;       /* static name of the call */
  bool reported;          /* the watchdog already complained about this call */
  int cut_backend;        /* PostgreSQL backend pid of a cut connection, 0: none */
};

/* ---- the process and its threads ---- */

struct h_rt;

struct h_wthread {
  struct h_rt *rt;              /* borrowed */
  int index;
  pthread_t tid;
  char worker_id[H_WORKER_ID_LEN + 16];
  char proc_key[H_KEY_LEN];
  char hb_key[H_KEY_LEN];
  struct h_redis redis;         /* owned by this thread */
  PGconn *pg;                   /* owned by this thread, NULL while disconnected */
  void *provider_states[H_MAX_PROVIDERS]; /* owned by this thread (each thread_close) */
  int breaker_seen[H_MAX_PROVIDERS];        /* the breaker states this thread last saw */
  long long breaker_seen_at[H_MAX_PROVIDERS]; /* when (monotonic ms; 0: never) */
  int breaker_pending[H_MAX_PROVIDERS];     /* successes not reported to Redis yet */
  long long breaker_flushed_at[H_MAX_PROVIDERS]; /* last report sent (monotonic ms) */
  struct h_watch watch;
  uint64_t rng;
  atomic_bool finished;         /* the thread returned */
  bool list_unknown;            /* a move into proc_key failed: it may hold ids nobody knows */
};

struct h_rt {
  const struct h_worker_def *def;
  const struct h_config *cfg;
  const struct h_worker_opts *opts;
  struct h_provider_set set;    /* the channel's providers, in order; owned */
  const char *channel;          /* the queue's name */
  struct h_redis_target redis_target;
  struct h_db_options db_opts;
  char base_id[H_WORKER_ID_LEN];     /* host-pid-random */
  char ready_key[64], delayed_key[64], dlq_key[64];
  int max_attempts;
  bool hold_on_recovery;
  int nthreads;
  struct h_wthread *threads;    /* [nthreads], owned */
  struct h_wthread maint;       /* the maintenance thread's identity and connections */
  struct h_wthread hb;          /* the heartbeat thread's connection */
  bool metrics_on;              /* sample queue depths for /metrics */
  atomic_bool stop;             /* stop fetching (SIGTERM, --once done, --max-jobs reached) */
  atomic_bool hard_stop;        /* give up on in-flight work (drain timeout) */
  atomic_bool maint_stop;
  atomic_bool heartbeat_ok;     /* the last heartbeat refresh reached Redis */
  atomic_long jobs_left;        /* --max-jobs budget */
  struct h_wmetrics *metrics;   /* owned */
  struct h_flood_rules flood;   /* throttles and caps, owned */
};

/* Milliseconds of CLOCK_MONOTONIC / CLOCK_REALTIME. */
long long h_rt_now_ms(void);
double h_rt_wall(void);

/* Sleeps ms in small slices; returns early (false) when *flag becomes true. */
bool h_rt_sleep(int ms, const atomic_bool *flag);

/* Reconnect backoff: sleeps 100 ms * 2^attempt (at most 5 s, jittered) and bumps
 * *attempt; false when *flag became true meanwhile. */
bool h_rt_backoff(struct h_wthread *t, int *attempt, const atomic_bool *flag);

/* ---- connections with the watchdog (conn.c) ---- */

/* Opens t->pg when needed. H_ERR_UNAVAILABLE while PostgreSQL is down. */
h_result h_rt_pg(struct h_wthread *t);
/* Closes t->pg when the connection is broken, so the next h_rt_pg reconnects. */
void h_rt_pg_check(struct h_wthread *t);
/* Marks a blocking call on fd (-1: unknown) that should end within timeout_ms. */
void h_rt_watch_begin(struct h_wthread *t, const char *what, int fd, int timeout_ms);
void h_rt_watch_end(struct h_wthread *t);
/* Runs a Redis command on t->redis under the watchdog (see h_redis_argv). */
h_result h_rt_redis(struct h_wthread *t, redisReply **reply, int argc, const char **argv,
                    int timeout_ms);
/* Initialises/cleans up the connection fields of t. */
void h_rt_thread_init(struct h_rt *rt, struct h_wthread *t, int index, const char *suffix);
void h_rt_thread_close(struct h_wthread *t);

/* ---- Redis moves of one id, atomic (scripts.c) ---- */

/* LREM id from t's processing list. */
h_result h_rt_ack(struct h_wthread *t, const char *id);
/* LREM id from from_key and push it onto list_key (left unless front). */
h_result h_rt_move_to_list(struct h_wthread *t, const char *from_key, const char *id,
                           const char *list_key, bool front);
/* LREM id from from_key and ZADD it to the delayed set at due (unix seconds). */
h_result h_rt_move_to_delayed(struct h_wthread *t, const char *from_key, const char *id,
                              double due);
/* SET key token NX PX ttl_ms: true when taken. */
bool h_rt_lock(struct h_wthread *t, const char *key, const char *token, int ttl_ms);
/* Deletes key when it still holds token. */
void h_rt_unlock(struct h_wthread *t, const char *key, const char *token);
/* SET every key of keys PX ttl_ms in one round trip. */
h_result h_rt_heartbeat(struct h_wthread *t, const char *const *keys, int n, int ttl_ms);
/* Moves every id of proc_key back to the ready list and deletes hb_key. */
h_result h_rt_release(struct h_wthread *t, const char *proc_key, const char *hb_key);

/* ---- the parts ---- */

void *h_rt_worker_thread(void *arg);      /* fetch.c */
void *h_rt_maint_thread(void *arg);       /* maint.c */
void *h_rt_heartbeat_thread(void *arg);   /* maint.c */
int h_rt_dry_run(struct h_rt *rt);        /* fetch.c */
/* One reaper pass (reaper.c): jobs of dead workers back to the ready list. */
void h_rt_reap(struct h_rt *rt, struct h_wthread *m);
/* One pass over PostgreSQL for rows 'processing' with no progress (reaper.c). */
void h_rt_sweep_stale(struct h_rt *rt, struct h_wthread *m);
/* Pushes id after h_job_recover decided status; from_key NULL: not in any list. */
h_result h_rt_route_recovered(struct h_wthread *t, const char *from_key, const char *id,
                              const char *status, double due);
int h_rt_dlq(struct h_rt *rt);            /* dlq.c: dlq list/replay/purge */
int h_rt_stats(struct h_rt *rt);          /* dlq.c: stats */

#endif

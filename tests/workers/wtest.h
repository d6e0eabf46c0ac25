/* wtest.h - helpers for the worker and reliability tests: fake providers and
 * worker processes started as children, jobs seeded straight into PostgreSQL and
 * Redis, polling assertions on rows, lists and what the fakes received.
 *
 * The stack comes from the environment like the integration tests
 * (HERALD_DATABASE_URL, HERALD_REDIS_URL, HERALD_TEST_STACK_SCRIPT). Failures go
 * through cmocka (fail_msg), so these are for use inside tests only. */
#ifndef HERALD_WTEST_H
#define HERALD_WTEST_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

#include "store/redis.h"

struct wt_proc {
  pid_t pid;          /* 0 when not running */
  int port;           /* fakes: the port from their READY line */
  int control_port;   /* fake SMTP: the control port */
  char log[256];      /* where its stderr (and a worker's stdout) go */
};

/* The environment most runtime tests give a worker: short heartbeats, reaper and
 * block times so recoveries happen within a second or two (static storage; NULL-
 * terminated; extra may add up to 8 more "NAME=value" entries, NULL-terminated). */
const char *const *wt_fast_env(int smtp_port, const char *const *extra);

/* Per-program setup: allocator, curl, logs, migrations, a temp dir. Call first. */
void wt_init(void);
/* A folder of this test program under /tmp (created by wt_init). Static. */
const char *wt_tmpdir(void);
/* Per-program cleanup: deletes the temp folder (kept when WT_KEEP is set). */
void wt_finish(void);

/* Starts tests/fakes/<script> with /usr/bin/python3 and args (NULL-terminated);
 * waits for its READY line. */
void wt_fake_start(struct wt_proc *p, const char *script, const char *const *args);

/* Starts bin with args (NULL-terminated, without argv[0]) and env overrides
 * ("NAME=value", NULL-terminated, may be NULL). */
void wt_worker_start(struct wt_proc *p, const char *bin, const char *const *args,
                     const char *const *env);

/* Sends sig and reaps it within timeout_s; returns the exit status (128+n when
 * killed by signal n), -1 on timeout (then it is SIGKILLed). */
int wt_proc_signal(struct wt_proc *p, int sig, int timeout_s);
/* Waits up to timeout_s for it to exit by itself; status as above or -1. */
int wt_proc_wait(struct wt_proc *p, int timeout_s);
/* Prints the last lines of its log to stderr (for failures). */
void wt_proc_dump(const struct wt_proc *p);

/* Runs bin to completion (timeout_s) with stdout+stderr captured into *output
 * (caller frees; may be NULL). Returns the exit status. */
int wt_run(const char *bin, const char *const *args, const char *const *env, char **output,
           int timeout_s);

/* HTTP to a fake; returns the status, *json the parsed body (may be NULL). */
long wt_http(const char *method, const char *url, const char *body, json_t **json);
/* GET url; returns the status, *body the raw body (caller frees). */
long wt_http_text(const char *url, char **body);
/* Control helpers on a fake's HTTP port. */
void wt_fake_rule(int port, const char *rule_json);
void wt_fake_reset(int port);
/* The messages it received: a new reference to the "messages" array. */
json_t *wt_fake_messages(int port);
/* How many messages it received for each delivery id (object id -> count). */
json_t *wt_fake_counts(int port);

/* A direct PostgreSQL connection (caller PQfinish()es) and this program's Redis. */
PGconn *wt_db(void);
struct h_redis *wt_redis(void);

/* Empties queue's Redis keys (ready, delayed, dead, processing, heartbeats, locks)
 * and settles that channel's unfinished rows as 'skipped', so leftovers of other
 * tests cannot reach this test's fakes. */
void wt_queue_clear(const char *queue);

struct wt_seed {
  const char *channel;   /* email, sms, push */
  int n;                 /* jobs (one user each) */
  const char *category;  /* default "news" */
  const char *title;     /* default "Hello" */
  const char *body;      /* default "Hello from Herald" */
  const char *html;      /* may be NULL */
  bool phone;            /* give each user a phone number */
  int devices;           /* give each user this many active devices */
  const char *device_prefix; /* device token prefix, default "tok-" */
};

/* Creates n users, notifications and queued deliveries; returns the delivery ids
 * (NULL-terminated, free with wt_free_ids). Does not push them. */
char **wt_seed_jobs(PGconn *conn, const struct wt_seed *s);
void wt_free_ids(char **ids);
size_t wt_count_ids(char **ids);
/* LPUSHes ids onto herald:q:{queue}. */
void wt_push(const char *queue, char **ids);
/* "{id,id,...}" for a uuid[] parameter (caller frees). */
char *wt_id_array(char **ids);

/* A query's single integer; sql may use $1 = the uuid[] of ids (or ids NULL). */
long long wt_scalar(PGconn *conn, const char *sql, char **ids);
/* Polls wt_scalar until it equals want (true) or timeout_s passes (false). */
bool wt_wait_scalar(PGconn *conn, const char *sql, char **ids, long long want, int timeout_s);

/* LLEN / ZCARD of a key, and the total length of queue's processing lists. */
long long wt_llen(const char *key);
long long wt_zcard(const char *key);
long long wt_processing(const char *queue);
/* How many keys match pattern (SCAN). */
long long wt_count_keys(const char *pattern);

/* Monotonic seconds. */
double wt_now(void);
void wt_sleep_ms(int ms);

#endif

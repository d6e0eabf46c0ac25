/* Reliability: Redis restarted, then PostgreSQL restarted, while two worker
 * processes drain 1,000 e-mail jobs. The workers must resume by themselves (no
 * restart of theirs) and lose nothing: every delivery sent exactly once in
 * PostgreSQL and received by the SMTP server, no duplicates (no worker died, so
 * nothing was recovered), empty lists at the end, both workers exit 0 on SIGTERM.
 * Then a silent PostgreSQL: the worker's backends are frozen (SIGSTOP), so its
 * queries never return; the watchdog must cut those connections and the worker go
 * on with new ones. And a move into a live thread's processing list whose reply was lost:
 * the thread takes the id up itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "wtest.h"

#define JOBS 1000

static struct wt_proc smtp;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  wt_init();
  const char *args[] = {"--delay-ms", "10", "--ids-only", NULL};
  wt_fake_start(&smtp, "fake_smtp.py", args);
  wt_queue_clear("email");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(NULL, &smtp);
  return 0;
}

static const char *sent_sql = "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                              " AND status = 'sent'";

/* Waits until at least n jobs are sent (reconnecting if PostgreSQL went away). */
static void wait_sent(char **ids, long long n, int timeout_s) {
  double deadline = wt_now() + timeout_s;
  while (wt_scalar(db, sent_sql, ids) < n && wt_now() < deadline) {
    wt_sleep_ms(50);
  }
}

static void restart(const char *service, int down_ms) {
  char cmd[64];
  snprintf(cmd, sizeof(cmd), "stop-service %s", service);
  assert_int_equal(th_stack(cmd), 0);
  wt_sleep_ms(down_ms);
  snprintf(cmd, sizeof(cmd), "start-service %s", service);
  assert_int_equal(th_stack(cmd), 0);
}

static void test_redis_and_postgres_restarts(void **state) {
  (void)state;
  db = wt_db();
  struct wt_seed s = {.channel = "email", .n = JOBS};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  struct wt_proc w1, w2;
  const char *args[] = {"--concurrency", "2", NULL};
  wt_worker_start(&w1, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, NULL));
  wt_worker_start(&w2, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, NULL));

  wait_sent(ids, 150, 30);
  h_redis_close(wt_redis());
  restart("redis", 2000); /* longer than the heartbeat TTL */
  long long before_pg = wt_scalar(db, sent_sql, ids);
  assert_true(before_pg < JOBS - 200); /* the restart happened mid-run */
  wait_sent(ids, before_pg + 150, 30);  /* they resumed after Redis came back */
  PQfinish(db);
  restart("postgres", 2000);
  db = wt_db();
  bool all = wt_wait_scalar(db, sent_sql, ids, JOBS, 60);
  if (!all) { /* what the late ones are waiting for */
    PGresult *st = PQexec(db, "SELECT id, status, claimed_by, attempts, fencing_token, updated_at"
                              " FROM deliveries WHERE status <> 'sent' AND channel = 'email'");
    for (int i = 0; i < PQntuples(st); i++) {
      fprintf(stderr, "not sent: %s %s %s attempts=%s token=%s updated %s\n", PQgetvalue(st, i, 0),
              PQgetvalue(st, i, 1), PQgetvalue(st, i, 2), PQgetvalue(st, i, 3),
              PQgetvalue(st, i, 4), PQgetvalue(st, i, 5));
    }
    PQclear(st);
  }
  /* an id pushed twice around a restart (the sweeper re-pushing a row whose first push
   * survived) is still on the list when the last job is sent: the workers drop it */
  for (int waited = 0; waited < 100 && wt_llen("herald:q:{email}") > 0; waited++) {
    usleep(100 * 1000);
  }
  int rc1 = wt_proc_signal(&w1, SIGTERM, 15), rc2 = wt_proc_signal(&w2, SIGTERM, 15);
  if (!all || rc1 != 0 || rc2 != 0) {
    wt_proc_dump(&w1);
    wt_proc_dump(&w2);
  }
  assert_true(all);
  assert_int_equal(rc1, 0);
  assert_int_equal(rc2, 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'sent'", ids), JOBS);
  assert_int_equal(wt_llen("herald:q:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  json_t *counts = wt_fake_counts(smtp.control_port);
  long long duplicates = 0;
  for (int i = 0; i < JOBS; i++) {
    json_int_t n = json_integer_value(json_object_get(counts, ids[i]));
    assert_true(n >= 1);
    duplicates += n - 1;
  }
  printf("reliability_restart: %d jobs across a Redis and a PostgreSQL restart: all sent, "
         "%lld duplicate sends\n", JOBS, duplicates);
  assert_int_equal(duplicates, 0);
  json_decref(counts);
  PQfinish(db);
  wt_free_ids(ids);
}

/* One Redis command for the test (argv NULL-terminated); the reply is the caller's. */
static redisReply *redis_cmd(const char **argv) {
  int argc = 0;
  while (argv[argc] != NULL) {
    argc++;
  }
  redisReply *reply = NULL;
  assert_int_equal(h_redis_argv(wt_redis(), &reply, argc, argv), H_OK);
  return reply;
}

/* A move into a thread's processing list whose reply is lost (Redis ran the BLMOVE, the
 * connection died before the reply came back) leaves the id in the list of a live worker,
 * where no reaper looks. The thread must take it up itself once Redis answers again.
 * Made happen: the id is put in the thread's list by hand, then every connection of the
 * worker is killed, so its next move fails. */
static void test_lost_move_reply_taken_up(void **state) {
  (void)state;
  db = wt_db();
  wt_queue_clear("email");
  struct wt_seed s = {.channel = "email", .n = 1};
  char **ids = wt_seed_jobs(db, &s);
  struct wt_proc w;
  const char *args[] = {"--concurrency", "1", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, NULL));
  char proc[256] = "";
  const char *keys[] = {"KEYS", "herald:hb:{email}:*/0", NULL};
  for (int i = 0; i < 200 && proc[0] == '\0'; i++) {
    redisReply *r = redis_cmd(keys);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
      snprintf(proc, sizeof(proc), "herald:q:{email}:proc:%s",
               r->element[0]->str + strlen("herald:hb:{email}:"));
    }
    freeReplyObject(r);
    wt_sleep_ms(25);
  }
  assert_true(proc[0] != '\0'); /* the thread is up */
  const char *clients[] = {"CLIENT", "LIST", NULL};
  bool blocked = false;
  for (int i = 0; i < 200 && !blocked; i++) { /* and waits in BLMOVE */
    redisReply *r = redis_cmd(clients);
    blocked = r->type == REDIS_REPLY_STRING && strstr(r->str, " flags=b ") != NULL;
    freeReplyObject(r);
    if (!blocked) {
      wt_sleep_ms(10);
    }
  }
  assert_true(blocked);
  const char *orphan[] = {"RPUSH", proc, ids[0], NULL};
  freeReplyObject(redis_cmd(orphan));
  const char *kill_them[] = {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes", NULL};
  freeReplyObject(redis_cmd(kill_them));
  bool sent = wt_wait_scalar(db, sent_sql, ids, 1, 15);
  int rc = wt_proc_signal(&w, SIGTERM, 15);
  if (!sent || rc != 0) {
    wt_proc_dump(&w);
  }
  assert_true(sent);
  assert_int_equal(rc, 0);
  assert_int_equal(wt_llen(proc), 0);
  FILE *f = fopen(w.log, "r");
  assert_non_null(f);
  char line[2048];
  bool taken_up = false;
  while (!taken_up && fgets(line, sizeof(line), f) != NULL) {
    taken_up = strstr(line, "from a move whose reply was lost: taken up") != NULL;
  }
  fclose(f);
  assert_true(taken_up); /* by the thread itself, not by a reaper after its heartbeat lapsed */
  PQfinish(db);
  wt_free_ids(ids);
}

/* Sends sig to the PostgreSQL backends serving herald-email; returns how many. */
static int signal_backends(int sig) {
  PGresult *res = PQexec(db, "SELECT pid FROM pg_stat_activity"
                             " WHERE application_name = 'herald-email'");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  int n = PQntuples(res);
  for (int i = 0; i < n; i++) {
    kill((pid_t)atoi(PQgetvalue(res, i, 0)), sig);
  }
  PQclear(res);
  return n;
}

/* Freezes the worker's backends at a moment when none is inside a statement or a
 * transaction: SIGSTOP them all, then look at what they were doing; if any was busy,
 * resume them and try again. (A backend frozen mid-transaction holds row locks that
 * stall the retry of that one job until it is resumed: the worker then terminates
 * it, and a lost claim reply is adopted; test_worker_claim covers that. Here the
 * point is that the worker goes on while PostgreSQL is silent.) */
static int freeze_idle_backends(void) {
  for (int attempt = 0; attempt < 500; attempt++) {
    int n = signal_backends(SIGSTOP);
    long long busy = wt_scalar(db, "SELECT count(*) FROM pg_stat_activity"
                                   " WHERE application_name = 'herald-email'"
                                   "   AND (state <> 'idle' OR backend_xid IS NOT NULL)", NULL);
    if (n >= 2 && busy == 0) {
      return n;
    }
    signal_backends(SIGCONT);
    wt_sleep_ms(3);
  }
  fail_msg("the worker's backends were never all idle at once");
  return 0;
}

static void test_watchdog_cuts_silent_connections(void **state) {
  (void)state;
  db = wt_db();
  wt_queue_clear("email");
  struct wt_seed s = {.channel = "email", .n = 200};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  const char *extra[] = {"HERALD_DB_STATEMENT_TIMEOUT_MS=300",
                         "HERALD_WORKER_WATCHDOG_GRACE_MS=300", NULL};
  struct wt_proc w;
  const char *args[] = {"--concurrency", "2", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, extra));
  wait_sent(ids, 20, 20);
  int frozen = freeze_idle_backends();
  long long at_freeze = wt_scalar(db, sent_sql, ids);
  wait_sent(ids, at_freeze + 30, 15); /* progress on fresh connections */
  long long progressed = wt_scalar(db, sent_sql, ids) - at_freeze;
  /* resume the frozen backends (they find their clients gone), then finish */
  signal_backends(SIGCONT);
  bool all = wt_wait_scalar(db, sent_sql, ids, 200, 30);
  int rc = wt_proc_signal(&w, SIGTERM, 15);
  if (!all || rc != 0) {
    wt_proc_dump(&w);
  }
  char *log = NULL;
  FILE *f = fopen(w.log, "r");
  size_t len = 0;
  if (f == NULL || getdelim(&log, &len, '\0', f) < 0) {
    fail_msg("cannot read %s", w.log);
  }
  fclose(f);
  printf("reliability_restart: %d backends frozen; %lld jobs sent meanwhile on new connections\n",
         frozen, progressed);
  assert_true(progressed >= 30);
  assert_non_null(strstr(log, "past its deadline: connection cut"));
  assert_non_null(strstr(log, "terminated PostgreSQL backend"));
  assert_true(all);
  assert_int_equal(rc, 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'sent'", ids), 200);
  free(log);
  PQfinish(db);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_redis_and_postgres_restarts),
    cmocka_unit_test(test_lost_move_reply_taken_up),
    cmocka_unit_test(test_watchdog_cuts_silent_connections),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

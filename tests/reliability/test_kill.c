/* Reliability: 2,000 e-mail jobs while the worker is killed with SIGKILL every second
 * and restarted. Every delivery must end 'sent' exactly once in PostgreSQL (one
 * 'sent' event each); the SMTP server may see a message twice only when a kill fell
 * between the send and the commit, i.e. only for deliveries the reaper recovered.
 * The duplicates are counted and reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wtest.h"

#define JOBS 2000
#define CONCURRENCY "4"

static struct wt_proc smtp;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  const char *args[] = {"--delay-ms", "15", "--ids-only", NULL};
  db = wt_begin(&smtp, "fake_smtp.py", args);
  wt_queue_clear("email");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, &smtp);
  return 0;
}

static const char *sent_sql = "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                              " AND status = 'sent'";

/* Kills and restarts the worker every second until every job is sent; returns kills. */
static int kill_loop(struct wt_proc *w, char **ids, const char *const *env) {
  const char *args[] = {"--concurrency", CONCURRENCY, NULL};
  int kills = 0;
  double deadline = wt_now() + 120;
  wt_worker_start(w, HERALD_EMAIL_BIN, args, env);
  while (wt_scalar(db, sent_sql, ids) < JOBS && wt_now() < deadline) {
    wt_sleep_ms(1000);
    if (wt_scalar(db, sent_sql, ids) >= JOBS) {
      break;
    }
    assert_int_equal(wt_proc_signal(w, SIGKILL, 5), 128 + SIGKILL);
    kills++;
    wt_worker_start(w, HERALD_EMAIL_BIN, args, env);
  }
  return kills;
}

static void test_sigkill_every_second(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = JOBS};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  struct wt_proc w;
  int kills = kill_loop(&w, ids, wt_fast_env(smtp.port, NULL));
  bool all = wt_wait_scalar(db, sent_sql, ids, JOBS, 30);
  /* the last victim's list is emptied by the reaper once its heartbeat expires */
  double deadline = wt_now() + 15;
  while (wt_processing("email") > 0 && wt_now() < deadline) {
    wt_sleep_ms(100);
  }
  int rc = wt_proc_signal(&w, SIGTERM, 15);
  if (!all || rc != 0) {
    wt_proc_dump(&w);
    char *arr = wt_id_array(ids);
    const char *params[] = {arr};
    PGresult *res = PQexecParams(db, "SELECT id, status, COALESCE(reason, '-'), attempts,"
                                     " recoveries, COALESCE(last_error, '-'), provider_attempts::text"
                                     " FROM deliveries WHERE id = ANY($1::uuid[]) AND status <> 'sent'",
                                 1, NULL, params, NULL, NULL, 0);
    for (int i = 0; i < PQntuples(res); i++) {
      fprintf(stderr, "not sent: %s %s %s attempts %s recoveries %s error %s calls %s\n",
              PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
              PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
              PQgetvalue(res, i, 6));
    }
    PQclear(res);
    free(arr);
  }
  assert_true(all);
  assert_int_equal(rc, 0);
  assert_true(kills >= 5);

  /* exactly once in PostgreSQL */
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'sent'", ids), JOBS);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND sent_at IS NOT NULL AND status = 'sent'", ids), JOBS);
  assert_int_equal(wt_llen("herald:q:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  assert_int_equal(wt_llen("herald:dlq:{email}"), 0);

  /* at least once at the provider; twice only for recovered deliveries */
  json_t *counts = wt_fake_counts(smtp.control_port);
  long long duplicates = 0, unexplained = 0;
  for (int i = 0; i < JOBS; i++) {
    json_int_t n = json_integer_value(json_object_get(counts, ids[i]));
    assert_true(n >= 1);
    if (n > 1) {
      duplicates += n - 1;
      char *one[] = {ids[i], NULL};
      unexplained += wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                   " AND recoveries = 0", one);
    }
  }
  long long recovered = wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id ="
                                      " ANY($1::uuid[]) AND recoveries > 0", ids);
  printf("reliability_kill: %d jobs, %d SIGKILLs, %lld deliveries recovered by the reaper, "
         "%lld duplicate sends at the provider (all among the recovered ones)\n",
         JOBS, kills, recovered, duplicates);
  assert_int_equal(unexplained, 0);
  assert_true(duplicates <= (long long)kills * 4);
  json_decref(counts);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sigkill_every_second),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

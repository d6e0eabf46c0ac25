/* Reliability: the SMTP server refuses every connection (421) for a while, then comes
 * back. Each job retries with exponential backoff: the gap before attempt n+1 must lie
 * within [d/2, d] (+ scheduling slack) where d = min(max, base * 2^(n-1)); once the
 * server is back every job is sent, exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "backoff.h"
#include "wtest.h"

#define JOBS 20
#define BASE_MS 400
#define MAX_MS 3200
#define SLACK_MS 900 /* promotion tick, BLMOVE wake-up, the attempt itself */

static struct wt_proc smtp;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&smtp, "fake_smtp.py", NULL);
  wt_queue_clear("email");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, &smtp);
  return 0;
}

/* Every gap between consecutive attempts of the jobs, checked against the bounds. */
static void check_gaps(char **ids) {
  char *array = wt_id_array(ids);
  const char *params[] = {array};
  PGresult *res = PQexecParams(
      db,
      "SELECT attempt, extract(epoch FROM created_at - lag(created_at) OVER w) * 1000,"
      " lag(status) OVER w FROM delivery_events WHERE delivery_id = ANY($1::uuid[])"
      " WINDOW w AS (PARTITION BY delivery_id ORDER BY id)",
      1, NULL, params, NULL, NULL, 0);
  free(array);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  int checked = 0;
  for (int i = 0; i < PQntuples(res); i++) {
    if (PQgetisnull(res, i, 1)) {
      continue; /* the first attempt */
    }
    int attempt = atoi(PQgetvalue(res, i, 0));
    double gap = atof(PQgetvalue(res, i, 1));
    long long d = h_backoff_ceiling_ms(attempt - 1, BASE_MS, MAX_MS);
    if (gap < (double)d / 2 - 5 || gap > (double)d + SLACK_MS) {
      fail_msg("attempt %d came %.0f ms after the previous one; backoff bounds [%lld, %lld]",
               attempt, gap, d / 2, d);
    }
    checked++;
  }
  PQclear(res);
  printf("reliability_provider_down: %d retry gaps within their backoff bounds\n", checked);
  assert_true(checked >= JOBS * 4);
}

static void test_down_then_back(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = JOBS};
  char **ids = wt_seed_jobs(db, &s);
  wt_fake_rule(smtp.control_port, "{\"stage\":\"connect\",\"code\":421,\"count\":-1,"
                                  "\"text\":\"4.3.2 service not available\"}");
  wt_push("email", ids);
  const char *extra[] = {"HERALD_RETRY_BASE_MS=400", "HERALD_RETRY_MAX_MS=3200",
                         "HERALD_EMAIL_MAX_ATTEMPTS=12", NULL};
  struct wt_proc w;
  const char *args[] = {"--concurrency", "2", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, extra));
  /* down until every job has failed four times (backoff 200-400, 400-800, 800-1600 ms) */
  bool failing = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                    " AND attempts >= 4", ids, JOBS, 30);
  assert_true(failing);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids), 0);
  wt_fake_reset(smtp.control_port); /* back */
  bool all = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                " AND status = 'sent'", ids, JOBS, 30);
  int rc = wt_proc_signal(&w, SIGTERM, 10);
  if (!all) {
    wt_proc_dump(&w);
  }
  assert_true(all);
  assert_int_equal(rc, 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'retry' AND error LIKE"
                                 " '%421 4.3.2 service not available%'", ids),
                   wt_scalar(db, "SELECT sum(attempts) - count(*) FROM deliveries WHERE id ="
                                 " ANY($1::uuid[])", ids));
  check_gaps(ids);
  json_t *counts = wt_fake_counts(smtp.control_port);
  for (int i = 0; i < JOBS; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), 1);
  }
  json_decref(counts);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_down_then_back),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Reliability: SIGTERM mid-run. The worker stops fetching, finishes the jobs in
 * flight (each recorded and received once), returns nothing-started ids to the ready
 * list, deletes its heartbeats and exits 0, leaving no processing list and no row
 * 'processing'. A second signal exits at once; the jobs it left are recovered by the
 * next worker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "wtest.h"

#define JOBS 300

static struct wt_proc smtp;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(NULL, NULL, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, NULL);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_queue_clear("email");
  return 0;
}

static const char *count_sql = "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                               " AND status = ";

static long long with_status(char **ids, const char *status) {
  char sql[256];
  snprintf(sql, sizeof(sql), "%s'%s'", count_sql, status);
  return wt_scalar(db, sql, ids);
}

static void test_sigterm_drains(void **state) {
  (void)state;
  const char *fargs[] = {"--delay-ms", "150", NULL};
  wt_fake_start(&smtp, "fake_smtp.py", fargs);
  struct wt_seed s = {.channel = "email", .n = JOBS};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  struct wt_proc w;
  const char *args[] = {"--concurrency", "4", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, NULL));
  assert_true(wt_wait_scalar(db, "SELECT least(count(*), 12) FROM deliveries WHERE id ="
                                 " ANY($1::uuid[]) AND status = 'sent'", ids, 12, 20));
  double t0 = wt_now();
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 15), 0);
  double took = wt_now() - t0;
  long long sent = with_status(ids, "sent"), queued = with_status(ids, "queued");
  printf("reliability_sigterm: drained in %.2f s: %lld sent, %lld returned to the queue\n", took,
         sent, queued);
  assert_true(sent > 0 && queued > 0);
  assert_int_equal(sent + queued, JOBS);
  assert_int_equal(with_status(ids, "processing"), 0);
  assert_int_equal(wt_processing("email"), 0);
  assert_int_equal(wt_count_keys("herald:q:{email}:proc:*"), 0);
  assert_int_equal(wt_count_keys("herald:hb:{email}:*"), 0);
  assert_int_equal(wt_llen("herald:q:{email}"), queued);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), sent); /* in-flight ones finished and recorded */
  for (int i = 0; i < JOBS; i++) {
    json_int_t n = json_integer_value(json_object_get(counts, ids[i]));
    assert_true(n <= 1);
  }
  json_decref(counts);
  wt_proc_signal(&smtp, SIGTERM, 5);
  wt_free_ids(ids);
}

static void test_second_signal_exits_at_once(void **state) {
  (void)state;
  const char *fargs[] = {"--delay-ms", "3000", NULL};
  wt_fake_start(&smtp, "fake_smtp.py", fargs);
  struct wt_seed s = {.channel = "email", .n = 8};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  struct wt_proc w;
  const char *args[] = {"--concurrency", "2", NULL};
  const char *extra[] = {"HERALD_PROVIDER_TIMEOUT_MS=10000", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, extra));
  assert_true(wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'processing'", ids, 2, 10));
  kill(w.pid, SIGTERM);
  wt_sleep_ms(200);
  double t0 = wt_now();
  int rc = wt_proc_signal(&w, SIGTERM, 5);
  assert_true(wt_now() - t0 < 1.0);
  assert_int_equal(rc, 128 + SIGTERM);
  assert_int_equal(with_status(ids, "processing"), 2); /* abandoned in flight... */
  /* ...and recovered by the next worker once the heartbeats expire */
  wt_proc_signal(&smtp, SIGTERM, 5);
  wt_fake_start(&smtp, "fake_smtp.py", NULL);
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, NULL));
  bool all = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                " AND status = 'sent'", ids, 8, 20);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 10), 0);
  assert_true(all);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND recoveries = 1", ids), 2);
  wt_proc_signal(&smtp, SIGTERM, 5);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_sigterm_drains, before),
    cmocka_unit_test_setup(test_second_signal_exits_at_once, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

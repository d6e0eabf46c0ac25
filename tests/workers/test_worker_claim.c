/* Claims against PostgreSQL (common/queue/jobs.c), driven directly: the first claim of a
 * queued delivery, a retried claim whose first COMMIT went through but whose reply
 * was lost (adopted by the same thread, not dropped), another thread's claim of the
 * same row (refused), a row scheduled for later (CONFLICT with its due time) and a
 * finished row (NOT_FOUND). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "queue/jobs.h"
#include "wtest.h"

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

/* One queued e-mail delivery; the caller frees the ids. */
static char **seed_one(void) {
  struct wt_seed s = {.channel = "email", .n = 1};
  return wt_seed_jobs(db, &s);
}

static void test_claim_then_lost_reply_is_adopted(void **state) {
  (void)state;
  char **ids = seed_one();
  struct h_job job;
  double due = 0;
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/0", &job, &due), H_OK);
  assert_int_equal(job.attempts, 1);
  long long token = job.fencing_token;
  assert_true(token >= 1);
  h_job_free(&job);

  /* the same thread claims again: its first reply was lost, the row is its own */
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/0", &job, &due), H_OK);
  assert_string_equal(job.id, ids[0]);
  assert_int_equal(job.fencing_token, token); /* adopted, not claimed a second time */
  assert_int_equal(job.attempts, 1);
  assert_non_null(job.email);

  /* and the adopted claim records like any other */
  struct h_job_outcome o = {.status = "sent", .event = "sent", .provider = "smtp"};
  assert_int_equal(h_job_record(db, &job, &o), H_OK);
  h_job_free(&job);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND attempts = 1", ids), 1);
  /* done: nothing to claim, not even for the thread that sent it */
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/0", &job, &due),
                   H_ERR_NOT_FOUND);
  wt_free_ids(ids);
}

static void test_other_thread_cannot_take_a_claimed_row(void **state) {
  (void)state;
  char **ids = seed_one();
  struct h_job job;
  double due = 0;
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/0", &job, &due), H_OK);
  h_job_free(&job);
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/1", &job, &due),
                   H_ERR_NOT_FOUND);
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-2-bb/0", &job, &due),
                   H_ERR_NOT_FOUND);
  /* the wrong channel never matches, even for the owner */
  assert_int_equal(h_job_claim(db, ids[0], "sms", "host-1-aa/0", &job, &due), H_ERR_NOT_FOUND);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND claimed_by = 'host-1-aa/0' AND fencing_token = 1", ids),
                   1);
  wt_free_ids(ids);
}

static void test_scheduled_later_is_a_conflict_with_its_due_time(void **state) {
  (void)state;
  char **ids = seed_one();
  char *arr = wt_id_array(ids);
  const char *params[] = {arr};
  PGresult *res = PQexecParams(db, "UPDATE deliveries SET status = 'scheduled',"
                                   " due_at = now() + interval '1 hour' WHERE id = ANY($1::uuid[])",
                               1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  free(arr);
  struct h_job job;
  double due = 0;
  assert_int_equal(h_job_claim(db, ids[0], "email", "host-1-aa/0", &job, &due), H_ERR_CONFLICT);
  double now = (double)time(NULL);
  assert_true(due > now + 3500 && due < now + 3700);
  /* garbage in a list is not claimable */
  assert_int_equal(h_job_claim(db, "not-a-uuid", "email", "host-1-aa/0", &job, &due),
                   H_ERR_NOT_FOUND);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_claim_then_lost_reply_is_adopted),
    cmocka_unit_test(test_other_thread_cannot_take_a_claimed_row),
    cmocka_unit_test(test_scheduled_later_is_a_conflict_with_its_due_time),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

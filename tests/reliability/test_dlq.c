/* Reliability: dead letters and the reaper.
 * - A job that always fails goes dead after HERALD_EMAIL_MAX_ATTEMPTS, lands in
 *   herald:dlq:{email}, shows in `dlq list`; `dlq replay` brings it back and it is
 *   sent once the server accepts it; `dlq purge` drops dead letters (audited).
 * - The reaper returns the job of a worker whose heartbeat expired to the queue
 *   (a recovery counted), sends a job recovered for the third time to the dead
 *   letters, and never takes a row that another (live) worker claimed; with
 *   HERALD_EMAIL_ON_RECOVERY=hold a recovered job is held for review instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wtest.h"

static struct wt_proc smtp;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&smtp, "fake_smtp.py", NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, &smtp);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &smtp);
  return 0;
}

static void exec(const char *sql, const char *a, const char *b) {
  const char *params[] = {a, b};
  PGresult *res = PQexecParams(db, sql, b != NULL ? 2 : 1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(db));
  }
  PQclear(res);
}

static bool in_list(const char *key, const char *id) {
  const char *argv[] = {"LPOS", key, id};
  redisReply *reply = NULL;
  assert_int_equal(h_redis_argv(wt_redis(), &reply, 3, argv), H_OK);
  bool found = reply->type == REDIS_REPLY_INTEGER;
  freeReplyObject(reply);
  return found;
}

static const char *const extra_env[] = {"HERALD_EMAIL_MAX_ATTEMPTS=3", "HERALD_RETRY_BASE_MS=100",
                                        "HERALD_RETRY_MAX_MS=200", NULL};

/* Runs the worker until sql (over ids) reaches want. */
static void run_until(const char *sql, char **ids, long long want) {
  struct wt_proc w;
  const char *args[] = {"--concurrency", "2", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, wt_fast_env(smtp.port, extra_env));
  bool ok = wt_wait_scalar(db, sql, ids, want, 30);
  int rc = wt_proc_signal(&w, SIGTERM, 10);
  if (!ok || rc != 0) {
    wt_proc_dump(&w);
  }
  assert_true(ok);
  assert_int_equal(rc, 0);
}

static int cli(const char *a, const char *b, const char *c, const char *d, char **out) {
  const char *args[] = {a, b, c, d, NULL};
  return wt_run(HERALD_EMAIL_BIN, args, NULL, out, 20);
}

static void always_fail(const char *id) {
  char rule[300];
  snprintf(rule, sizeof(rule), "{\"stage\":\"rcpt\",\"code\":451,\"count\":-1,\"match\":\"%s\"}",
           wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                " WHERE d.id = $1", id));
  wt_fake_rule(smtp.control_port, rule);
}

static void test_dead_letter_replay(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 2};
  char **ids = wt_seed_jobs(db, &s);
  always_fail(ids[0]);
  wt_push("email", ids);
  run_until("SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status IN"
            " ('dead', 'sent')", ids, 2);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason || '/' || attempts FROM deliveries"
                           " WHERE id = $1", ids[0]), "dead/max_attempts/3");
  assert_string_equal(wt_text(db, "SELECT string_agg(status, ',' ORDER BY id) FROM delivery_events"
                           " WHERE delivery_id = $1", ids[0]), "retry,retry,dead");
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[1]), "sent");
  assert_true(in_list("herald:dlq:{email}", ids[0]));
  assert_int_equal(wt_zcard("herald:delayed:{email}"), 0);

  char *out = NULL;
  assert_int_equal(cli("dlq", "list", NULL, NULL, &out), 0);
  assert_non_null(strstr(out, ids[0]));
  assert_non_null(strstr(out, "max_attempts"));
  assert_non_null(strstr(out, "1 dead email job(s) shown"));
  free(out);
  assert_int_equal(cli("dlq", "replay", "--id", ids[1], &out), 1); /* not dead */
  free(out);
  assert_int_equal(cli("dlq", "replay", "--id", ids[0], &out), 0);
  free(out);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[0]), "queued/0");
  assert_false(in_list("herald:dlq:{email}", ids[0]));
  assert_true(in_list("herald:q:{email}", ids[0]));
  assert_string_equal(wt_text(db, "SELECT count(*)::text FROM audit_log WHERE target_id = $1"
                           " AND action = 'delivery.dlq_replay' AND actor_type = 'system'",
                           ids[0]), "1");
  wt_fake_reset(smtp.control_port); /* the server accepts it now */
  run_until("SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status = 'sent'",
            ids, 2);
  assert_string_equal(wt_text(db, "SELECT string_agg(status, ',' ORDER BY id) FROM delivery_events"
                           " WHERE delivery_id = $1", ids[0]), "retry,retry,dead,replayed,sent");
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_integer_value(json_object_get(counts, ids[0])), 1);
  json_decref(counts);
  wt_free_ids(ids);
}

static void test_purge(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 2};
  char *out = NULL;
  /* nothing older than an hour; then everything */
  char **more = wt_seed_jobs(db, &s);
  always_fail(more[0]);
  always_fail(more[1]);
  wt_push("email", more);
  run_until("SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status = 'dead'",
            more, 2);
  assert_int_equal(cli("dlq", "replay", "--all", NULL, &out), 0); /* back, and dead again */
  assert_non_null(strstr(out, "2 dead email job(s) replayed"));
  free(out);
  assert_int_equal(wt_llen("herald:q:{email}"), 2);
  run_until("SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status = 'dead'"
            " AND attempts = 3", more, 2);
  assert_int_equal(cli("dlq", "purge", "--older-than", "1h", &out), 0);
  assert_non_null(strstr(out, "0 dead email job(s) purged"));
  free(out);
  assert_int_equal(cli("dlq", "purge", NULL, NULL, &out), 0);
  assert_non_null(strstr(out, "2 dead email job(s) purged"));
  free(out);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'failed' AND reason = 'dlq_purged'", more), 2);
  assert_int_equal(wt_llen("herald:dlq:{email}"), 0);
  assert_int_equal(cli("dlq", "list", NULL, NULL, &out), 0);
  assert_non_null(strstr(out, "0 dead email job(s) shown"));
  free(out);
  wt_free_ids(more);
}

/* Makes id look claimed by worker (its row 'processing', its id in worker's list). */
static void claimed_by(const char *id, const char *worker, int recoveries) {
  char rec[16], key[160];
  snprintf(rec, sizeof(rec), "%d", recoveries);
  exec("UPDATE deliveries SET status = 'processing', attempts = 1, fencing_token = 7,"
       " claimed_by = $2 WHERE id = $1", id, worker);
  exec("UPDATE deliveries SET recoveries = $2::int WHERE id = $1", id, rec);
  snprintf(key, sizeof(key), "herald:q:{email}:proc:%s", worker);
  const char *argv[] = {"LPUSH", key, id};
  assert_int_equal(h_redis_argv(wt_redis(), NULL, 3, argv), H_OK);
}

static void test_reaper(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 4};
  char **ids = wt_seed_jobs(db, &s);
  claimed_by(ids[0], "ghost-1/0", 0);   /* its worker died: recovered, then sent */
  claimed_by(ids[1], "ghost-2/0", 2);   /* recovered for the third time: dead */
  claimed_by(ids[2], "live-1/0", 0);    /* a live worker holds it ... */
  char key[160];
  snprintf(key, sizeof(key), "herald:q:{email}:proc:ghost-3/0");
  const char *dup[] = {"LPUSH", key, ids[2]}; /* ... and a dead one had a duplicate id */
  assert_int_equal(h_redis_argv(wt_redis(), NULL, 3, dup), H_OK);
  const char *hb[] = {"SET", "herald:hb:{email}:live-1/0", "1", "PX", "60000"};
  assert_int_equal(h_redis_argv(wt_redis(), NULL, 5, hb), H_OK);
  char *reaped[] = {ids[0], ids[1], NULL};
  run_until("SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status IN"
            " ('sent', 'dead')", reaped, 2);
  assert_string_equal(wt_text(db, "SELECT status || '/' || recoveries FROM deliveries WHERE id = $1",
                           ids[0]), "sent/1");
  assert_non_null(strstr(wt_text(db, "SELECT string_agg(status || ':' || coalesce(error, ''), ','"
                              " ORDER BY id) FROM delivery_events WHERE delivery_id = $1",
                              ids[0]), "recovered:worker ghost-1/0 lost: heartbeat expired,sent"));
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason || '/' || recoveries FROM deliveries"
                           " WHERE id = $1", ids[1]), "dead/too_many_recoveries/3");
  assert_true(in_list("herald:dlq:{email}", ids[1]));
  /* the live worker's row is untouched: same token, not requeued, its list intact */
  assert_string_equal(wt_text(db, "SELECT status || '/' || fencing_token || '/' || claimed_by"
                           " FROM deliveries WHERE id = $1", ids[2]), "processing/7/live-1/0");
  assert_true(in_list("herald:q:{email}:proc:live-1/0", ids[2]));
  assert_false(in_list("herald:q:{email}", ids[2]));
  assert_int_equal(wt_count_keys("herald:q:{email}:proc:ghost-*"), 0);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), 1); /* only the recovered job was sent */
  json_decref(counts);
  wt_free_ids(ids);
}

static void test_reaper_holds_for_review(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 1};
  char **ids = wt_seed_jobs(db, &s);
  claimed_by(ids[0], "ghost-4/0", 0);
  const char *extra[] = {"HERALD_EMAIL_ON_RECOVERY=hold", NULL};
  struct wt_proc w;
  wt_worker_start(&w, HERALD_EMAIL_BIN, NULL, wt_fast_env(smtp.port, extra));
  bool held = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'held'", ids, 1, 20);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 10), 0);
  assert_true(held);
  assert_string_equal(wt_text(db, "SELECT reason || '/' || recoveries FROM deliveries WHERE id = $1",
                           ids[0]), "recovered_hold_for_review/1");
  assert_string_equal(wt_text(db, "SELECT string_agg(status, ',' ORDER BY id) FROM delivery_events"
                           " WHERE delivery_id = $1", ids[0]), "held");
  assert_false(in_list("herald:q:{email}", ids[0]));
  assert_int_equal(wt_count_keys("herald:q:{email}:proc:ghost-*"), 0);
  json_t *messages = wt_fake_messages(smtp.control_port);
  assert_int_equal(json_array_size(messages), 0);
  json_decref(messages);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_dead_letter_replay, before),
    cmocka_unit_test_setup(test_purge, before),
    cmocka_unit_test_setup(test_reaper, before),
    cmocka_unit_test_setup(test_reaper_holds_for_review, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: the sweeper. Losing Redis loses nothing (rows left queued are pushed when it
 * returns); due ids move from the delayed sets to the ready lists, rows follow; a delayed
 * entry Redis lost is re-pushed from PostgreSQL; scheduled in-app deliveries are marked
 * sent; two sweepers never push the same row twice in one interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "notif_support.h"
#include "store/redis.h"
#include "queue/sweeper.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "1", 1);
  setenv("HERALD_SWEEP_STALE_S", "2", 1);
  setenv("HERALD_REDIS_TIMEOUT_MS", "300", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

static void sql(const char *statement, const char *param) {
  free(th_sql_text(statement, param));
}

static char *status_of(const char *delivery_id) {
  return th_sql_text("SELECT status FROM deliveries WHERE id = $1::uuid", delivery_id);
}

static void test_redis_down_then_back(void **state) {
  (void)state;
  char uid[37];
  free(th_user(&srv, "outage", "+14155550106", uid));
  assert_int_equal(th_stack("stop-service redis"), 0);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                   "\"channels\":[\"email\",\"sms\",\"in_app\"]}", uid);
  const char *email = th_str(ns_delivery(n, "email"), "id");
  const char *sms = th_str(ns_delivery(n, "sms"), "id");
  th_assert_json_subset("{\"status\":\"queued\"}", ns_delivery(n, "email"));
  th_assert_json_subset("{\"status\":\"sent\"}", ns_delivery(n, "in_app"));
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE id = $1::uuid"
                               " AND status = 'queued'", email), 1);
  assert_int_equal(th_stack("start-service redis"), 0);
  assert_false(th_list_has("herald:q:{email}", email)); /* the push was lost */
  assert_true(th_wait_list_has("herald:q:{email}", email, 20));
  assert_true(th_wait_list_has("herald:q:{sms}", sms, 5));
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE id = $1::uuid"
                               " AND updated_at > created_at", email), 1);
  json_decref(n);
}

static void test_delayed_ids_promoted_when_due(void **state) {
  (void)state;
  char uid[37], at[32];
  free(th_user(&srv, "promote", NULL, uid));
  th_iso(time(NULL) + 2, at);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                   "\"channels\":[\"email\"],\"send_at\":\"%s\"}", uid, at);
  const char *id = th_str(ns_delivery(n, "email"), "id");
  assert_true(th_zscore("herald:delayed:{email}", id) > 0);
  assert_false(th_list_has("herald:q:{email}", id));
  assert_true(th_wait_list_has("herald:q:{email}", id, 15));
  assert_true(th_zscore("herald:delayed:{email}", id) < 0);
  char *status = NULL;
  for (int i = 0; i < 30; i++) { /* the row follows the id */
    free(status);
    status = status_of(id);
    if (strcmp(status, "queued") == 0) {
      break;
    }
    usleep(100 * 1000);
  }
  assert_string_equal(status, "queued");
  free(status);
  json_decref(n);
}

static void test_lost_delayed_entry_pushed_from_postgres(void **state) {
  (void)state;
  char uid[37], at[32];
  free(th_user(&srv, "lostdelay", "+14155550107", uid));
  th_iso(time(NULL) + 3600, at);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                   "\"channels\":[\"sms\"],\"send_at\":\"%s\"}", uid, at);
  const char *id = th_str(ns_delivery(n, "sms"), "id");
  /* Redis loses the delayed entry; the time comes (and goes). */
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r;
  h_redis_init(&r, &t);
  const char *argv[] = {"ZREM", "herald:delayed:{sms}", id};
  assert_int_equal(h_redis_argv(&r, NULL, 3, argv), H_OK);
  h_redis_close(&r);
  sql("UPDATE deliveries SET due_at = now() - interval '10 seconds' WHERE id = $1::uuid"
      " RETURNING id", id);
  assert_true(th_wait_list_has("herald:q:{sms}", id, 15));
  char *status = status_of(id);
  assert_string_equal(status, "queued");
  free(status);
  json_decref(n);
}

static void test_scheduled_in_app_becomes_visible(void **state) {
  (void)state;
  char uid[37], at[32];
  char *token = th_user(&srv, "inapp", NULL, uid);
  th_iso(time(NULL) + 2, at);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"soon\","
                                   "\"channels\":[\"in_app\"],\"send_at\":\"%s\"}", uid, at);
  const char *id = th_str(ns_delivery(n, "in_app"), "id");
  th_assert_json_subset("{\"status\":\"scheduled\"}", ns_delivery(n, "in_app"));
  char *status = NULL;
  for (int i = 0; i < 100; i++) {
    free(status);
    status = status_of(id);
    if (strcmp(status, "sent") == 0) {
      break;
    }
    usleep(100 * 1000);
  }
  assert_string_equal(status, "sent");
  free(status);
  struct th_response r;
  th_call(&srv, token, "GET", "/api/v1/notifications", NULL, NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  assert_int_equal(json_integer_value(json_object_get(r.json, "unread_count")), 1);
  th_response_free(&r);
  json_decref(n);
  free(token);
}

/* LPOS key id COUNT 0: how many times id is on the list. */
static size_t occurrences(const char *key, const char *id) {
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r;
  h_redis_init(&r, &t);
  const char *argv[] = {"LPOS", key, id, "COUNT", "0"};
  redisReply *reply = NULL;
  assert_int_equal(h_redis_argv(&r, &reply, 5, argv), H_OK);
  size_t n = reply->elements;
  freeReplyObject(reply);
  h_redis_close(&r);
  return n;
}

/* An e-mail to a new user named who (the 202: the caller frees it); *id: its delivery, queued
 * once. */
static json_t *send_email(const char *who, const char **id) {
  char uid[37];
  free(th_user(&srv, who, NULL, uid));
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                   "\"channels\":[\"email\"]}", uid);
  *id = th_str(ns_delivery(n, "email"), "id");
  assert_int_equal(occurrences("herald:q:{email}", *id), 1);
  return n;
}

static void test_two_sweepers_push_a_row_once(void **state) {
  (void)state;
  const char *id = NULL;
  json_t *n = send_email("twice", &id);
  sql("UPDATE deliveries SET updated_at = now() - interval '1 hour',"
      " due_at = now() - interval '1 hour' WHERE id = $1::uuid RETURNING id", id);
  /* Two more sweepers besides the API's, one pass each, right away. */
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r1, r2;
  h_redis_init(&r1, &t);
  h_redis_init(&r2, &t);
  PGconn *c1 = th_db_connect(), *c2 = th_db_connect();
  struct h_sweeper_options opt = {.stale_s = 30, .batch = 100};
  assert_int_equal(h_sweeper_run_once(c1, &r1, &opt, NULL), H_OK);
  assert_int_equal(h_sweeper_run_once(c2, &r2, &opt, NULL), H_OK);
  assert_int_equal(occurrences("herald:q:{email}", id), 2); /* the first push + one re-push */
  PQfinish(c1);
  PQfinish(c2);
  h_redis_close(&r1);
  h_redis_close(&r2);
  json_decref(n);
}

/* What conn's open transaction has read of deliveries so far, whatever the plan: the entries
 * returned by its indexes and the rows returned by its sequential scans. */
static long deliveries_reads(PGconn *conn) {
  PGresult *res = PQexec(conn, "SELECT pg_stat_get_xact_tuples_returned('deliveries'::regclass)"
                               " + (SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid))"
                               "    FROM pg_index WHERE indrelid = 'deliveries'::regclass)");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  long n = atol(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

/* A pass reads the rows due for another push and nothing else: neither a backlog queued less
 * than stale_s ago, nor one that waits out its back-off after a push (deliveries_stale_idx,
 * migration 0106; before it a pass read every queued row due before the cutoff). A stale row
 * among them is still pushed again. The rows are made in the pass's own transaction, unseen by
 * the API's sweeper, and rolled back. */
static void test_sweep_reads_only_rows_due_again(void **state) {
  (void)state;
  const char *stale = NULL;
  json_t *n = send_email("backlog", &stale);
  PGconn *c = th_db_connect();
  PQclear(PQexec(c, "BEGIN"));
  const char *steps[] = {
    "UPDATE deliveries SET updated_at = now() - interval '2 hours',"
    " due_at = now() - interval '2 hours' WHERE id = $1::uuid",
    /* fresh: queued a moment ago */
    "INSERT INTO deliveries (notification_id, user_id, channel, status)"
    " SELECT notification_id, user_id, 'email', 'queued'"
    " FROM deliveries, generate_series(1, 2000) WHERE id = $1::uuid",
    /* waiting out their back-off: queued 3 hours ago, pushed again 90 minutes ago */
    "INSERT INTO deliveries (notification_id, user_id, channel, status, due_at, created_at,"
    " updated_at, repushes)"
    " SELECT notification_id, user_id, 'email', 'queued', now() - interval '3 hours',"
    " now() - interval '3 hours', now() - interval '90 minutes', 1"
    " FROM deliveries, generate_series(1, 2000) WHERE id = $1::uuid",
  };
  for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
    PGresult *res = PQexecParams(c, steps[i], 1, NULL, &stale, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
  }
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r;
  h_redis_init(&r, &t);
  long before = deliveries_reads(c);
  struct h_sweeper_options opt = {.stale_s = 3600, .batch = 100};
  struct h_sweep_stats st = {0};
  assert_int_equal(h_sweeper_run_once(c, &r, &opt, &st), H_OK);
  long reads = deliveries_reads(c) - before;
  PQclear(PQexec(c, "ROLLBACK"));
  assert_int_equal(st.repushed, 1);
  assert_int_equal(occurrences("herald:q:{email}", stale), 2);
  assert_true(reads < 200); /* 4,000 queued rows besides it */
  PQfinish(c);
  h_redis_close(&r);
  json_decref(n);
}

/* Runs sql with $1 = id on c (in its open transaction); returns the first column of its first
 * row as a number (0 without one). */
static long run_in(PGconn *c, const char *sql, const char *id) {
  PGresult *res = PQexecParams(c, sql, 1, NULL, &id, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  long v = st == PGRES_TUPLES_OK && PQntuples(res) > 0 ? atol(PQgetvalue(res, 0, 0)) : 0;
  PQclear(res);
  return v;
}

/* A row pushed again that is still queued was most likely waiting behind a backlog: each push
 * doubles the wait before the next (repushes, migration 0105), up to 16 stale ages, and being
 * queued again (here: an overdue scheduled row) starts over. Each step sets the row's last
 * push back by some stale ages (3,600 s each) and runs one pass, in the test's own transaction
 * (now() is its start; the API's sweeper skips the locked row), rolled back. */
static void test_repush_backs_off(void **state) {
  (void)state;
  const char *id = NULL;
  json_t *n = send_email("backoff", &id); /* pushed once, after its COMMIT */
  PGconn *c = th_db_connect();
  PQclear(PQexec(c, "BEGIN"));
  run_in(c, "UPDATE deliveries SET due_at = now() - interval '20 hours' WHERE id = $1::uuid", id);
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r;
  h_redis_init(&r, &t);
  struct h_sweeper_options opt = {.stale_s = 3600, .batch = 100};
  static const struct {
    const char *last_push; /* how long ago the row was last pushed or queued */
    int repushes;          /* 4: set to the cap before the pass; -1: leave it */
    long pushed;           /* pushed again by the pass */
    int after;             /* repushes after the pass */
  } steps[] = {
    {"1 hour 1 second", -1, 1, 1},   /* stale: pushed again, the next wait two stale ages */
    {"1 hour 1 second", -1, 0, 1},   /* one stale age is not enough now */
    {"2 hours 1 second", -1, 1, 2},  /* two are */
    {"3 hours 59 minutes", -1, 0, 2}, /* then four */
    {"4 hours 1 second", -1, 1, 3},
    {"15 hours 59 minutes", 4, 0, 4}, /* the longest wait: sixteen (4 is the cap) */
    {"16 hours 1 second", -1, 1, 4},  /* and it stays the longest */
    {"16 hours 1 second", -1, 1, 4},
  };
  size_t expected = 1;
  for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE deliveries SET updated_at = now() - interval '%s',"
             " repushes = %s WHERE id = $1::uuid", steps[i].last_push,
             steps[i].repushes >= 0 ? "4" : "repushes");
    run_in(c, sql, id);
    struct h_sweep_stats st = {0};
    assert_int_equal(h_sweeper_run_once(c, &r, &opt, &st), H_OK);
    expected += (size_t)steps[i].pushed;
    assert_int_equal(st.repushed, steps[i].pushed);
    assert_int_equal(occurrences("herald:q:{email}", id), expected);
    assert_int_equal(run_in(c, "SELECT repushes FROM deliveries WHERE id = $1::uuid", id),
                     steps[i].after);
  }
  /* a push that does not reach Redis earns no back-off: the next attempt one stale age later */
  struct h_redis_target nowhere;
  h_redis_parse_url("redis://127.0.0.1:1/0", 500, &nowhere);
  struct h_redis down;
  h_redis_init(&down, &nowhere);
  run_in(c, "UPDATE deliveries SET updated_at = now() - interval '16 hours 1 second'"
            " WHERE id = $1::uuid", id);
  struct h_sweep_stats failed = {0};
  assert_int_equal(h_sweeper_run_once(c, &down, &opt, &failed), H_OK);
  assert_int_equal(failed.repushed, 1); /* taken, but not pushed */
  assert_int_equal(occurrences("herald:q:{email}", id), expected);
  assert_int_equal(run_in(c, "SELECT repushes FROM deliveries WHERE id = $1::uuid", id), 0);
  h_redis_close(&down);
  /* queued again from an overdue scheduled row: pushed, and the count starts over */
  run_in(c, "UPDATE deliveries SET status = 'scheduled', due_at = now() - interval '2 hours',"
            " repushes = 3 WHERE id = $1::uuid", id);
  struct h_sweep_stats st = {0};
  assert_int_equal(h_sweeper_run_once(c, &r, &opt, &st), H_OK);
  assert_int_equal(st.rescheduled, 1);
  assert_int_equal(occurrences("herald:q:{email}", id), expected + 1);
  assert_int_equal(run_in(c, "SELECT repushes FROM deliveries WHERE id = $1::uuid"
                             " AND status = 'queued'", id), 0);
  PQclear(PQexec(c, "ROLLBACK"));
  PQfinish(c);
  h_redis_close(&r);
  json_decref(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_redis_down_then_back),
    cmocka_unit_test(test_delayed_ids_promoted_when_due),
    cmocka_unit_test(test_lost_delayed_entry_pushed_from_postgres),
    cmocka_unit_test(test_scheduled_in_app_becomes_visible),
    cmocka_unit_test(test_two_sweepers_push_a_row_once),
    cmocka_unit_test(test_sweep_reads_only_rows_due_again),
    cmocka_unit_test(test_repush_backs_off),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

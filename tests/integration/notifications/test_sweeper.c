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

/* Index entries of deliveries_sweep_idx read by conn's open transaction so far. */
static long sweep_index_reads(PGconn *conn) {
  PGresult *res = PQexec(conn, "SELECT pg_stat_get_xact_tuples_returned("
                               "'deliveries_sweep_idx'::regclass)");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  long n = atol(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

/* A backlog of rows queued less than stale_s ago costs a pass nothing: the stale rows are
 * found by the range of deliveries_sweep_idx due before the cutoff (the statement read and
 * sorted every queued row before). A stale row among them is still pushed again. The rows
 * are made in the pass's own transaction, unseen by the API's sweeper, and rolled back. */
static void test_sweep_reads_only_stale_rows(void **state) {
  (void)state;
  const char *stale = NULL;
  json_t *n = send_email("backlog", &stale);
  PGconn *c = th_db_connect();
  PQclear(PQexec(c, "BEGIN"));
  const char *steps[] = {
    "UPDATE deliveries SET updated_at = now() - interval '2 hours',"
    " due_at = now() - interval '2 hours' WHERE id = $1::uuid",
    "INSERT INTO deliveries (notification_id, user_id, channel, status)"
    " SELECT notification_id, user_id, 'email', 'queued'"
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
  long before = sweep_index_reads(c);
  struct h_sweeper_options opt = {.stale_s = 3600, .batch = 100};
  struct h_sweep_stats st = {0};
  assert_int_equal(h_sweeper_run_once(c, &r, &opt, &st), H_OK);
  long reads = sweep_index_reads(c) - before;
  PQclear(PQexec(c, "ROLLBACK"));
  assert_int_equal(st.repushed, 1);
  assert_int_equal(occurrences("herald:q:{email}", stale), 2);
  assert_true(reads < 200); /* 2,000 fresh queued rows besides it */
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
    cmocka_unit_test(test_sweep_reads_only_stale_rows),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

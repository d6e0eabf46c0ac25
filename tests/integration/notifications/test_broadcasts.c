/* Integration: bulk notifications and announcements answer 202 at once and fan out in
 * the background, in batches, with a count that grows to the number of recipients; a
 * fan-out interrupted half-way resumes from PostgreSQL. */
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
#include "crypto/crypto.h"
#include "notif_support.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
  setenv("HERALD_FANOUT_POLL_MS", "100", 1);
  setenv("HERALD_FANOUT_BATCH", "2", 1);
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

static json_t *call(const char *method, const char *path, const char *body, long status) {
  struct th_response r;
  th_call(&srv, admin, method, path, body, NULL, &r);
  if (r.status != status) {
    fail_msg("%s %s: expected %ld, got %ld %s", method, path, status, r.status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

/* Polls GET <collection>/<id> until its status is "completed" (or "failed"); returns the
 * last body. */
static json_t *wait_done(const char *collection, const char *id) {
  char path[160];
  snprintf(path, sizeof(path), "%s/%s", collection, id);
  json_t *b = NULL;
  for (int i = 0; i < 200; i++) {
    json_decref(b);
    b = call("GET", path, NULL, 200);
    const char *status = th_str(b, "status");
    if (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0) {
      return b;
    }
    usleep(50 * 1000);
  }
  fail_msg("fan-out did not finish: %s", th_str(b, "status"));
  return b;
}

static void test_bulk(void **state) {
  (void)state;
  char ids[5][37], unknown[37];
  for (int i = 0; i < 5; i++) {
    free(th_user(&srv, "bulk", NULL, ids[i]));
  }
  h_uuid_v4(unknown);
  char body[1024];
  snprintf(body, sizeof(body),
           "{\"user_ids\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"],"
           "\"category\":\"digest\",\"title\":\"Weekly\",\"body\":\"Your digest\","
           "\"channels\":[\"in_app\",\"email\"]}",
           ids[0], ids[1], ids[2], ids[3], ids[4], ids[0], unknown);
  json_t *b = call("POST", "/api/v1/notifications/bulk", body, 202);
  th_assert_json_subset("{\"object\":\"notification_batch\",\"target\":\"list\",\"requested\":6,"
                        "\"recipients\":5,\"category\":\"digest\",\"channels\":[\"in_app\","
                        "\"email\"]}", b);
  assert_true(json_integer_value(json_object_get(b, "created_count")) <= 5);
  json_t *done = wait_done("/api/v1/notification-batches", th_str(b, "id"));
  th_assert_json_subset("{\"status\":\"completed\",\"created_count\":5,\"recipients\":5}", done);
  assert_true(json_is_string(json_object_get(done, "completed_at")));
  for (int i = 0; i < 5; i++) {
    assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                                 " AND category = 'digest' AND broadcast_id IS NOT NULL", ids[i]),
                     1);
  }
  char *email = th_sql_text("SELECT d.id FROM deliveries d JOIN notifications n ON"
                            " n.id = d.notification_id WHERE n.broadcast_id = $1::uuid"
                            " AND d.channel = 'email' LIMIT 1", th_str(b, "id"));
  assert_true(th_list_has("herald:q:{email}", email));
  free(email);
  json_decref(done);
  json_decref(b);
  json_decref(call("GET", "/api/v1/notification-batches/not-an-id", NULL, 404));
}

static void test_bulk_validation(void **state) {
  (void)state;
  json_t *e = call("POST", "/api/v1/notifications/bulk", "{\"category\":\"c\",\"body\":\"b\"}",
                   400);
  assert_string_equal(th_str(json_object_get(e, "error"), "param"), "user_ids");
  json_decref(e);
  e = call("POST", "/api/v1/notifications/bulk",
           "{\"user_ids\":[],\"category\":\"c\",\"body\":\"b\"}", 400);
  assert_string_equal(th_str(json_object_get(e, "error"), "code"), "invalid_type");
  json_decref(e);
  e = call("POST", "/api/v1/notifications/bulk",
           "{\"user_ids\":[\"x\"],\"category\":\"c\",\"body\":\"b\",\"target\":\"all\"}", 400);
  assert_int_equal(json_array_size(json_object_get(json_object_get(e, "error"), "errors")), 2);
  json_decref(e);
  /* 1,001 ids. */
  size_t len = 0;
  char *big = h_malloc(1001 * 40 + 100);
  len += (size_t)sprintf(big, "{\"category\":\"c\",\"body\":\"b\",\"user_ids\":[");
  for (int i = 0; i < 1001; i++) {
    char id[37];
    h_uuid_v4(id);
    len += (size_t)sprintf(big + len, "%s\"%s\"", i > 0 ? "," : "", id);
  }
  sprintf(big + len, "]}");
  e = call("POST", "/api/v1/notifications/bulk", big, 400);
  assert_string_equal(th_str(json_object_get(e, "error"), "param"), "user_ids");
  json_decref(e);
  free(big);
  char *user = th_user(&srv, "bulknotadmin", NULL, NULL);
  struct th_response r;
  th_call(&srv, user, "POST", "/api/v1/notifications/bulk",
          "{\"user_ids\":[],\"category\":\"c\",\"body\":\"b\"}", NULL, &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  free(user);
}

static void test_announcement_to_admins(void **state) {
  (void)state;
  long admins = th_sql_long("SELECT count(*) FROM users WHERE role = 'admin'"
                            " AND status = 'active'", NULL);
  json_t *a = call("POST", "/api/v1/announcements",
                   "{\"target\":\"admins\",\"title\":\"Maintenance\",\"body\":\"Tonight\","
                   "\"channels\":[\"in_app\"]}", 202);
  th_assert_json_subset("{\"object\":\"announcement\",\"target\":\"admins\","
                        "\"category\":\"announcement\",\"priority\":\"normal\"}", a);
  assert_int_equal(json_integer_value(json_object_get(a, "recipients")), admins);
  json_t *done = wait_done("/api/v1/announcements", th_str(a, "id"));
  th_assert_json_subset("{\"status\":\"completed\"}", done);
  assert_int_equal(json_integer_value(json_object_get(done, "created_count")),
                   json_integer_value(json_object_get(done, "recipients")));
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE broadcast_id = $1::uuid",
                               th_str(a, "id")),
                   json_integer_value(json_object_get(done, "recipients")));
  /* The admin who asked sees it in the feed. */
  json_t *feed = call("GET", "/api/v1/notifications?category=announcement&limit=100", NULL, 200);
  bool seen = false;
  size_t i;
  json_t *n;
  json_array_foreach(json_object_get(feed, "data"), i, n) {
    seen |= strcmp(th_str(n, "title"), "Maintenance") == 0;
  }
  assert_true(seen);
  json_decref(feed);
  json_t *list = call("GET", "/api/v1/announcements?limit=100", NULL, 200);
  seen = false;
  json_array_foreach(json_object_get(list, "data"), i, n) {
    seen |= strcmp(th_str(n, "id"), th_str(a, "id")) == 0;
  }
  assert_true(seen);
  json_decref(list);
  json_decref(done);
  json_decref(a);
}

static void test_announcement_scheduled_and_invalid(void **state) {
  (void)state;
  time_t at = time(NULL) + 3600;
  char body[256], when[32];
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
  snprintf(body, sizeof(body), "{\"target\":\"users\",\"body\":\"Later\",\"send_at\":\"%s\"}",
           when);
  json_t *a = call("POST", "/api/v1/announcements", body, 202);
  th_assert_json_subset("{\"status\":\"scheduled\",\"created_count\":0}", a);
  assert_string_equal(th_str(a, "send_at"), when);
  usleep(400 * 1000); /* a few fan-out polls: it must not start before send_at */
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/announcements/%s", th_str(a, "id"));
  json_t *again = call("GET", path, NULL, 200);
  th_assert_json_subset("{\"status\":\"scheduled\",\"created_count\":0,\"started_at\":null}",
                        again);
  json_decref(again);
  json_decref(a);
  json_t *e = call("POST", "/api/v1/announcements", "{\"target\":\"everyone\",\"body\":\"x\"}",
                   400);
  th_assert_json_subset("{\"error\":{\"code\":\"invalid_target\",\"param\":\"target\"}}", e);
  json_decref(e);
  e = call("POST", "/api/v1/announcements", "{\"body\":\"x\"}", 400);
  th_assert_json_subset("{\"error\":{\"code\":\"missing_field\",\"param\":\"target\"}}", e);
  json_decref(e);
  e = call("POST", "/api/v1/announcements",
           "{\"target\":\"all\",\"template\":\"no-such-template-x\"}", 422);
  th_assert_json_subset("{\"error\":{\"code\":\"template_not_found\"}}", e);
  json_decref(e);
  json_decref(call("GET", "/api/v1/announcements?limit=0", NULL, 400));
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

static void test_fanout_resumes_after_a_crash(void **state) {
  (void)state;
  char ids[4][37];
  for (int i = 0; i < 4; i++) {
    free(th_user(&srv, "resume", NULL, ids[i]));
  }
  /* A broadcast a dead instance left half done: running, lease expired, cursor after the
   * first recipient (in id order), one notification made. */
  char sorted[4][37];
  memcpy(sorted, ids, sizeof(ids));
  qsort(sorted, 4, 37, by_text);
  char sql[1024];
  snprintf(sql, sizeof(sql),
           "INSERT INTO broadcasts (kind, target, user_ids, request, status, cursor_id,"
           " recipients, created_count, lease_token, lease_until, started_at)"
           " VALUES ('bulk', 'list', '{%s,%s,%s,%s}', '{\"category\":\"resume\",\"priority\":"
           "\"normal\",\"body\":\"r\",\"channels\":[\"in_app\"]}', 'running', $1::uuid, 4, 1,"
           " gen_random_uuid(), now() - interval '1 second', now()) RETURNING id",
           ids[0], ids[1], ids[2], ids[3]);
  char *id = th_sql_text(sql, sorted[0]);
  json_t *done = wait_done("/api/v1/notification-batches", id);
  th_assert_json_subset("{\"status\":\"completed\",\"created_count\":4}", done);
  json_decref(done);
  /* The first recipient was done before the crash: nothing new for it. */
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE broadcast_id = $1::uuid",
                               id), 3);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'resume'", sorted[0]), 0);
  free(id);
}

/* A broadcast whose stored request was not written by the API (here: empty) fails with a
 * reason; the fan-out goes on with the next broadcast. It used to read the missing priority
 * as a NULL string and take the whole process down. */
static void test_fanout_fails_a_malformed_request(void **state) {
  (void)state;
  char user[37];
  free(th_user(&srv, "malformed", NULL, user));
  char sql[512];
  snprintf(sql, sizeof(sql),
           "INSERT INTO broadcasts (kind, target, user_ids, request)"
           " VALUES ('bulk', 'list', '{%s}', $1::jsonb) RETURNING id", user);
  char *bad = th_sql_text(sql, "{}");
  char *good = th_sql_text(sql, "{\"category\":\"malformed\",\"priority\":\"normal\","
                                "\"body\":\"after\",\"channels\":[\"in_app\"]}");
  json_t *failed = wait_done("/api/v1/notification-batches", bad);
  th_assert_json_subset("{\"status\":\"failed\",\"created_count\":0}", failed);
  const char *error = th_str(failed, "error");
  if (strstr(error, "invalid_request") == NULL) {
    fail_msg("error: %s", error);
  }
  json_decref(failed);
  json_t *done = wait_done("/api/v1/notification-batches", good);
  th_assert_json_subset("{\"status\":\"completed\",\"created_count\":1}", done);
  json_decref(done);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE broadcast_id = $1::uuid",
                               bad), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND body = 'after'", user), 1);
  free(bad);
  free(good);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bulk),
    cmocka_unit_test(test_bulk_validation),
    cmocka_unit_test(test_announcement_to_admins),
    cmocka_unit_test(test_announcement_scheduled_and_invalid),
    cmocka_unit_test(test_fanout_resumes_after_a_crash),
    cmocka_unit_test(test_fanout_fails_a_malformed_request),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

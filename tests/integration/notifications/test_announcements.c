/* Integration: announcement audiences (an explicit user list, locales, topics users
 * subscribe to through /api/v1/topics and /api/v1/users/me/topics), update and withdraw,
 * over real HTTP with the fan-out running, and every bad input. */
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

/* Calls path as token, expects status; returns the body (caller decrefs, may be NULL). */
static json_t *expect(const char *token, const char *method, const char *path, const char *body,
                      long status) {
  struct th_response r;
  th_call(&srv, token, method, path, body, NULL, &r);
  if (r.status != status) {
    fail_msg("%s %s: %ld, wanted %ld: %s", method, path, r.status, status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

static void expect_field(const char *method, const char *path, const char *body,
                         const char *param, const char *code) {
  struct th_response r;
  th_call(&srv, admin, method, path, body, NULL, &r);
  th_assert_field_error(&r, param, code);
  th_response_free(&r);
}

/* Posts an announcement (body) and waits until its fan-out is over; returns its id
 * (caller frees). */
static char *announce(const char *body) {
  json_t *a = expect(admin, "POST", "/api/v1/announcements", body, 202);
  char *id = h_strdup(th_str(a, "id"));
  json_decref(a);
  char path[96];
  snprintf(path, sizeof(path), "/api/v1/announcements/%s", id);
  for (int i = 0; i < 200; i++) {
    json_t *b = expect(admin, "GET", path, NULL, 200);
    bool done = strcmp(th_str(b, "status"), "completed") == 0;
    json_decref(b);
    if (done) {
      return id;
    }
    usleep(50 * 1000);
  }
  fail_msg("announcement %s did not complete", id);
  return id;
}

/* How many copies of announcement id user uid got (deleted ones too when all). */
static long copies(const char *id, const char *uid, bool all) {
  char *sql = h_sprintf("SELECT count(*) FROM notifications WHERE broadcast_id = '%s'"
                        " AND user_id = $1::uuid%s", id, all ? "" : " AND deleted_at IS NULL");
  long n = th_sql_long(sql, uid);
  free(sql);
  return n;
}

static void test_topics(void **state) {
  (void)state;
  char uid[37], key[64], body[256], path[128];
  char *user = th_user(&srv, "topics", NULL, uid);
  snprintf(key, sizeof(key), "releases-%ld-%d", (long)time(NULL), rand() % 100000);
  snprintf(body, sizeof(body), "{\"key\":\"%s\",\"name\":\"Releases\",\"description\":\"New"
           " versions\"}", key);
  json_t *t = expect(admin, "POST", "/api/v1/topics", body, 201);
  th_assert_json_subset("{\"object\":\"topic\",\"name\":\"Releases\"}", t);
  json_decref(t);
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/topics", body, NULL, &r);
  th_assert_error(&r, 409, "topic_exists");
  th_response_free(&r);
  json_decref(expect(user, "POST", "/api/v1/topics", body, 403));
  expect_field("POST", "/api/v1/topics", "{\"key\":\"Bad Key\",\"name\":\"x\"}", "key",
               "invalid_key");
  expect_field("POST", "/api/v1/topics", "{\"key\":\"ok\"}", "name", "missing_field");
  expect_field("POST", "/api/v1/topics", "{\"key\":\"ok\",\"name\":\"\"}", "name", "too_short");
  expect_field("POST", "/api/v1/topics", "{\"key\":\"ok\",\"name\":\"n\",\"x\":1}", "x",
               "unknown_field");
  json_t *list = expect(user, "GET", "/api/v1/topics", NULL, 200);
  assert_true(json_array_size(json_object_get(list, "data")) >= 1);
  json_decref(list);
  snprintf(path, sizeof(path), "/api/v1/users/me/topics/%s", key);
  t = expect(user, "PUT", path, NULL, 200);
  assert_string_equal(th_str(t, "key"), key);
  assert_non_null(th_str(t, "subscribed_at"));
  json_decref(t);
  json_decref(expect(user, "PUT", path, NULL, 200)); /* again: no change */
  list = expect(user, "GET", "/api/v1/users/me/topics", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 1);
  json_decref(list);
  json_decref(expect(user, "PUT", "/api/v1/users/me/topics/no-such-topic", NULL, 404));
  json_decref(expect(user, "PUT", "/api/v1/users/me/topics/Bad%20Key", NULL, 404));
  json_decref(expect(NULL, "PUT", path, NULL, 401));
  json_decref(expect(user, "DELETE", path, NULL, 204));
  json_decref(expect(user, "DELETE", path, NULL, 404));
  list = expect(user, "GET", "/api/v1/users/me/topics", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 0);
  json_decref(list);
  free(user);
}

static void test_audiences(void **state) {
  (void)state;
  char a[37], b[37], c[37], key[64], body[512], path[128];
  char *ta = th_user(&srv, "aud", NULL, a), *tb = th_user(&srv, "aud", NULL, b);
  char *tc = th_user(&srv, "aud", NULL, c);
  json_decref(expect(tb, "PATCH", "/api/v1/users/me", "{\"locale\":\"de-AT\"}", 200));
  json_decref(expect(tc, "PATCH", "/api/v1/users/me", "{\"locale\":\"de\"}", 200));
  snprintf(key, sizeof(key), "beta-%ld-%d", (long)time(NULL), rand() % 100000);
  snprintf(body, sizeof(body), "{\"key\":\"%s\",\"name\":\"Beta\"}", key);
  json_decref(expect(admin, "POST", "/api/v1/topics", body, 201));
  snprintf(path, sizeof(path), "/api/v1/users/me/topics/%s", key);
  json_decref(expect(ta, "PUT", path, NULL, 200));
  json_decref(expect(tb, "PUT", path, NULL, 200));
  /* the topic's subscribers whose language is German: b only */
  snprintf(body, sizeof(body), "{\"target\":\"all\",\"topics\":[\"%s\"],\"locales\":[\"de\"],"
           "\"body\":\"Beta for German speakers\",\"channels\":[\"in_app\"]}", key);
  char *id = announce(body);
  assert_int_equal(copies(id, a, true), 0);
  assert_int_equal(copies(id, b, true), 1);
  assert_int_equal(copies(id, c, true), 0);
  json_t *got = expect(admin, "GET", "/api/v1/announcements", NULL, 200);
  json_decref(got);
  snprintf(path, sizeof(path), "/api/v1/announcements/%s", id);
  got = expect(admin, "GET", path, NULL, 200);
  th_assert_json_subset("{\"recipients\":1,\"created_count\":1,\"locales\":[\"de\"]}", got);
  json_decref(got);
  free(id);
  /* an explicit list */
  snprintf(body, sizeof(body), "{\"target\":\"list\",\"user_ids\":[\"%s\",\"%s\"],"
           "\"body\":\"Just you two\",\"channels\":[\"in_app\"]}", a, c);
  id = announce(body);
  assert_int_equal(copies(id, a, true), 1);
  assert_int_equal(copies(id, b, true), 0);
  assert_int_equal(copies(id, c, true), 1);
  free(id);
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"list\",\"body\":\"x\"}",
               "user_ids", "missing_field");
  snprintf(body, sizeof(body), "{\"target\":\"all\",\"user_ids\":[\"%s\"],\"body\":\"x\"}", a);
  expect_field("POST", "/api/v1/announcements", body, "user_ids", "not_allowed");
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"all\",\"locales\":[],"
               "\"body\":\"x\"}", "locales", "invalid_type");
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"all\",\"locales\":[\"??\"],"
               "\"body\":\"x\"}", "locales", "invalid_value");
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"all\",\"topics\":[\"a\",\"a\"],"
               "\"body\":\"x\"}", "topics", "duplicate_value");
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"all\",\"topics\":\"a\","
               "\"body\":\"x\"}", "topics", "invalid_type");
  expect_field("POST", "/api/v1/announcements", "{\"target\":\"everyone\",\"body\":\"x\"}",
               "target", "invalid_target");
  free(ta);
  free(tb);
  free(tc);
}

static void test_update_and_withdraw(void **state) {
  (void)state;
  char a[37], b[37], body[512], path[160];
  char *ta = th_user(&srv, "wd", NULL, a), *tb = th_user(&srv, "wd", NULL, b);
  snprintf(body, sizeof(body), "{\"target\":\"list\",\"user_ids\":[\"%s\",\"%s\"],"
           "\"title\":\"Maintenance\",\"body\":\"Down at 02:00\",\"channels\":[\"in_app\","
           "\"email\"]}", a, b);
  char *id = announce(body);
  /* update: the copies already made change */
  snprintf(path, sizeof(path), "/api/v1/announcements/%s", id);
  json_t *u = expect(admin, "PATCH", path, "{\"body\":\"Down at 03:00 instead\"}", 200);
  th_assert_json_subset("{\"body\":\"Down at 03:00 instead\",\"title\":\"Maintenance\"}", u);
  json_decref(u);
  json_t *feed = expect(tb, "GET", "/api/v1/notifications?q=instead", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(feed, "data")), 1);
  json_decref(feed);
  expect_field("PATCH", path, "{}", "body", "missing_field");
  expect_field("PATCH", path, "{\"body\":\"\"}", "body", "too_short");
  expect_field("PATCH", path, "{\"target\":\"all\"}", "target", "unknown_field");
  expect_field("PATCH", path, "{\"action_url\":\"ftp://x\"}", "action_url", "invalid_url");
  expect_field("PATCH", path, "{\"data\":[1]}", "data", "invalid_type");
  json_decref(expect(admin, "PATCH", "/api/v1/announcements/00000000-0000-4000-8000-000000000000",
                     "{\"body\":\"x\"}", 404));
  /* a reads theirs; withdraw removes b's unread copy, keeps a's, cancels the e-mails */
  char *sql = h_sprintf("SELECT id::text FROM notifications WHERE broadcast_id = $1::uuid"
                        " AND user_id = '%s'", a);
  char *a_copy = th_sql_text(sql, id);
  free(sql);
  char read_path[128];
  snprintf(read_path, sizeof(read_path), "/api/v1/notifications/%s/read", a_copy);
  json_decref(expect(ta, "POST", read_path, NULL, 200));
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE n.broadcast_id = $1::uuid"
                               " AND d.channel = 'email' AND d.status = 'queued'", id), 2);
  snprintf(path, sizeof(path), "/api/v1/announcements/%s/withdraw", id);
  json_t *w = expect(admin, "POST", path, NULL, 200);
  th_assert_json_subset("{\"status\":\"withdrawn\"}", w);
  assert_non_null(th_str(w, "withdrawn_at"));
  json_decref(w);
  assert_int_equal(copies(id, a, false), 1);
  assert_int_equal(copies(id, b, false), 0);
  assert_int_equal(copies(id, b, true), 1); /* soft: kept, deleted */
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE n.broadcast_id = $1::uuid"
                               " AND d.channel = 'email' AND d.status = 'skipped'"
                               " AND d.reason = 'withdrawn'", id), 2);
  struct th_response r;
  th_call(&srv, admin, "POST", path, NULL, NULL, &r);
  th_assert_error(&r, 409, "announcement_withdrawn");
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/announcements/%s", id);
  th_call(&srv, admin, "PATCH", path, "{\"body\":\"x\"}", NULL, &r);
  th_assert_error(&r, 409, "announcement_withdrawn");
  th_response_free(&r);
  json_decref(expect(admin, "POST",
                     "/api/v1/announcements/00000000-0000-4000-8000-000000000000/withdraw",
                     NULL, 404));
  json_decref(expect(admin, "POST", "/api/v1/announcements/nope/withdraw", NULL, 404));
  snprintf(path, sizeof(path), "/api/v1/announcements/%s/withdraw", id);
  json_decref(expect(ta, "POST", path, NULL, 403));
  /* a scheduled one withdrawn before its time never fans out */
  char when[32];
  th_iso(time(NULL) + 3600, when);
  snprintf(body, sizeof(body), "{\"target\":\"list\",\"user_ids\":[\"%s\"],\"body\":\"Later\","
           "\"send_at\":\"%s\"}", a, when);
  json_t *s = expect(admin, "POST", "/api/v1/announcements", body, 202);
  snprintf(path, sizeof(path), "/api/v1/announcements/%s/withdraw", th_str(s, "id"));
  json_t *w2 = expect(admin, "POST", path, NULL, 200);
  th_assert_json_subset("{\"status\":\"withdrawn\",\"created_count\":0}", w2);
  json_decref(w2);
  json_decref(s);
  free(a_copy);
  free(id);
  free(ta);
  free(tb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_topics),
    cmocka_unit_test(test_audiences),
    cmocka_unit_test(test_update_and_withdraw),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

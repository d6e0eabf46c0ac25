/* Integration: the feed's full-text search (?q= in the language of the user's locale,
 * with category and date filters), archive and clear all, over real HTTP, with every
 * bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "notif_support.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
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

/* An in-app notification for uid; returns its id (caller frees). */
static char *send_one(const char *uid, const char *category, const char *title,
                      const char *body) {
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"%s\",\"title\":\"%s\","
                      "\"body\":\"%s\",\"channels\":[\"in_app\"]}", uid, category, title, body);
  char *id = h_strdup(th_str(n, "id"));
  json_decref(n);
  return id;
}

/* GET path as token: the titles of the page, newest first, joined by "|" (caller frees). */
static char *titles(const char *token, const char *path) {
  struct th_response r;
  th_call(&srv, token, "GET", path, NULL, NULL, &r);
  if (r.status != 200) {
    fail_msg("GET %s: %ld %s", path, r.status, r.body);
  }
  char buf[2048] = "";
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(r.json, "data"), i, item) {
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof(buf) - n, "%s%s", i > 0 ? "|" : "", th_str(item, "title"));
  }
  th_response_free(&r);
  return h_strdup(buf);
}

static void expect_feed_error(const char *token, const char *path, const char *param,
                              const char *code) {
  struct th_response r;
  th_call(&srv, token, "GET", path, NULL, NULL, &r);
  th_assert_field_error(&r, param, code);
  th_response_free(&r);
}

static void test_search_language_and_filters(void **state) {
  (void)state;
  char uid[37], other[37], de[37];
  char *token = th_user(&srv, "search", NULL, uid);
  char *other_token = th_user(&srv, "search", NULL, other);
  char *de_token = th_user(&srv, "suche", NULL, de);
  struct th_response r;
  th_call(&srv, de_token, "PATCH", "/api/v1/users/me", "{\"locale\":\"de-DE\"}", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  free(send_one(uid, "billing", "Invoice ready", "Your invoice 2027-001 is ready"));
  free(send_one(uid, "billing", "Paid", "Both invoices were paid"));
  char *old = send_one(uid, "news", "Digest", "Three invoicing tips this week");
  free(send_one(uid, "news", "Weekly digest", "Nothing about money"));
  free(send_one(other, "billing", "Invoice ready", "Another account's invoice"));
  free(send_one(de, "billing", "Rechnungen", "Ihre Rechnungen sind bereit"));
  th_sql_long("UPDATE notifications SET created_at = '2026-01-15T10:00:00Z' WHERE id = $1::uuid"
              " RETURNING 1", old);
  /* English stemming: invoice, invoices; the other account's never */
  char *t = titles(token, "/api/v1/notifications?q=invoice");
  assert_string_equal(t, "Paid|Invoice ready|Digest");
  free(t);
  t = titles(token, "/api/v1/notifications?q=invoice&category=billing");
  assert_string_equal(t, "Paid|Invoice ready");
  free(t);
  t = titles(token, "/api/v1/notifications?q=invoice&until=2026-02-01T00:00:00Z");
  assert_string_equal(t, "Digest");
  free(t);
  t = titles(token, "/api/v1/notifications?q=invoice&since=2026-02-01T00:00:00Z&limit=1");
  assert_string_equal(t, "Paid");
  free(t);
  t = titles(token, "/api/v1/notifications?q=%22invoice%20ready%22");
  assert_string_equal(t, "Invoice ready");
  free(t);
  t = titles(token, "/api/v1/notifications?q=money%20-digest");
  assert_string_equal(t, "");
  free(t);
  t = titles(token, "/api/v1/notifications?since=2026-02-01T00:00:00Z&category=news");
  assert_string_equal(t, "Weekly digest");
  free(t);
  /* German stemming for a de-DE account: Rechnung finds Rechnungen */
  t = titles(de_token, "/api/v1/notifications?q=Rechnung");
  assert_string_equal(t, "Rechnungen");
  free(t);
  expect_feed_error(token, "/api/v1/notifications?q=", "q", "invalid_filter");
  expect_feed_error(token, "/api/v1/notifications?q=%20%20", "q", "invalid_filter");
  char longq[300];
  snprintf(longq, sizeof(longq), "/api/v1/notifications?q=%0201d", 0);
  expect_feed_error(token, longq, "q", "invalid_filter");
  expect_feed_error(token, "/api/v1/notifications?since=yesterday", "since", "invalid_filter");
  expect_feed_error(token, "/api/v1/notifications?until=2026-13-01T00:00:00Z", "until",
                    "invalid_filter");
  expect_feed_error(token, "/api/v1/notifications?since=2026-02-01T00:00:00Z"
                           "&until=2026-01-01T00:00:00Z", "until", "invalid_range");
  expect_feed_error(token, "/api/v1/notifications?archived=yes", "archived", "invalid_filter");
  free(old);
  free(token);
  free(other_token);
  free(de_token);
}

static long unread(const char *token) {
  struct th_response r;
  th_call(&srv, token, "GET", "/api/v1/notifications/unread-count", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  long n = (long)json_integer_value(json_object_get(r.json, "unread_count"));
  th_response_free(&r);
  return n;
}

static void test_archive(void **state) {
  (void)state;
  char uid[37], other[37];
  char *token = th_user(&srv, "archive", NULL, uid);
  char *other_token = th_user(&srv, "archive", NULL, other);
  char *a = send_one(uid, "news", "A", "first");
  char *b = send_one(uid, "news", "B", "second");
  assert_int_equal(unread(token), 2);
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/archive", a);
  struct th_response r;
  th_call(&srv, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"archived\":true,\"read\":true}", r.json);
  assert_non_null(th_str(r.json, "archived_at"));
  th_response_free(&r);
  th_call(&srv, other_token, "POST", path, NULL, NULL, &r); /* not theirs */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  th_call(&srv, token, "POST", "/api/v1/notifications/nope/archive", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  th_call(&srv, NULL, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  assert_int_equal(unread(token), 1);
  char *t = titles(token, "/api/v1/notifications");
  assert_string_equal(t, "B");
  free(t);
  t = titles(token, "/api/v1/notifications?archived=true");
  assert_string_equal(t, "A");
  free(t);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unarchive", a);
  th_call(&srv, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"archived\":false,\"archived_at\":null,\"read\":true}", r.json);
  th_response_free(&r);
  t = titles(token, "/api/v1/notifications");
  assert_string_equal(t, "B|A");
  free(t);
  /* marking an archived one unread brings it back to the feed */
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/archive", b);
  th_call(&srv, token, "POST", path, NULL, NULL, &r);
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unread", b);
  th_call(&srv, token, "POST", path, NULL, NULL, &r);
  th_assert_json_subset("{\"archived\":false,\"read\":false}", r.json);
  th_response_free(&r);
  assert_int_equal(unread(token), 1);
  free(a);
  free(b);
  free(token);
  free(other_token);
}

static void test_clear_all(void **state) {
  (void)state;
  char uid[37], other[37];
  char *token = th_user(&srv, "clear", NULL, uid);
  char *other_token = th_user(&srv, "clear", NULL, other);
  for (int i = 0; i < 3; i++) {
    free(send_one(uid, "news", "N", "body"));
  }
  free(send_one(other, "news", "Keep", "body"));
  struct th_response r;
  th_call(&srv, token, "POST", "/api/v1/notifications/clear", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"notification_clear\",\"cleared\":3,\"unread_count\":0}",
                        r.json);
  th_response_free(&r);
  char *t = titles(token, "/api/v1/notifications");
  assert_string_equal(t, "");
  free(t);
  assert_int_equal(unread(token), 0);
  /* soft: the rows are kept, marked deleted */
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND in_app AND deleted_at IS NOT NULL", uid), 3);
  t = titles(other_token, "/api/v1/notifications");
  assert_string_equal(t, "Keep");
  free(t);
  th_call(&srv, token, "POST", "/api/v1/notifications/clear", NULL, NULL, &r);
  th_assert_json_subset("{\"cleared\":0}", r.json);
  th_response_free(&r);
  th_call(&srv, NULL, "POST", "/api/v1/notifications/clear", NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1"
                               " AND action = 'notification.cleared'", uid), 1);
  free(token);
  free(other_token);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_search_language_and_filters),
    cmocka_unit_test(test_archive),
    cmocka_unit_test(test_clear_all),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

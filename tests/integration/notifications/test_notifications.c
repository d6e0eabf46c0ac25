/* Integration: POST /api/v1/notifications (rows in PostgreSQL, ids in Redis, skipped
 * channels, send_at, templates, every field's bad input, idempotency under concurrency)
 * and the user's feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "notif_support.h"

static struct th_server srv;
static char *admin;

/* The notifications a user got from these tests (registration queues a verification
 * e-mail, category "account"). */
#define SENT_TO                                                                             \
  "SELECT count(*) FROM notifications WHERE user_id = $1::uuid AND category <> 'account'"

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1); /* the sweeper has its own test */
  /* These tests change rows by hand in SQL, which sends no stream notice, and read the feed
   * at once: the first page's copies (test_feed_cache.c) would show it late. */
  setenv("HERALD_FEED_CACHE_MS", "0", 1);
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

static void test_send_every_channel(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&srv, "all", "+14155550100", uid);
  char device[64];
  snprintf(device, sizeof(device), "dev-%ld-%d", (long)time(NULL), rand());
  ns_device(&srv, token, device);
  json_t *n = ns_send(&srv, admin,
                      "{\"user_id\":\"%s\",\"category\":\"billing\",\"priority\":\"high\","
                      "\"title\":\"Invoice\",\"body\":\"Your invoice is ready\","
                      "\"action_url\":\"https://app.example.com/invoices/1\",\"data\":{\"n\":1}}",
                      uid);
  th_assert_json_subset("{\"object\":\"notification\",\"status\":\"queued\",\"category\":"
                        "\"billing\",\"priority\":\"high\",\"send_at\":null}",
                        n);
  assert_int_equal(json_array_size(json_object_get(n, "deliveries")), 4);
  th_assert_json_subset("{\"status\":\"sent\"}", ns_delivery(n, "in_app"));
  const char *channels[] = {"email", "sms", "push"};
  for (int i = 0; i < 3; i++) {
    const json_t *d = ns_delivery(n, channels[i]);
    th_assert_json_subset("{\"status\":\"queued\",\"object\":\"delivery\"}", d);
    char key[64];
    snprintf(key, sizeof(key), "herald:q:{%s}", channels[i]);
    assert_true(th_list_has(key, th_str(d, "id")));
    assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE id = $1::uuid AND "
                                 "status = 'queued'", th_str(d, "id")), 1);
  }
  const char *id = th_str(n, "id");
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE notification_id = $1::uuid",
                               id), 4);
  char *rendered = th_sql_text("SELECT rendered->'email'->>'subject' || '|' || title || '|' ||"
                               " body || '|' || in_app::text FROM notifications"
                               " WHERE id = $1::uuid", id);
  assert_string_equal(rendered, "Invoice|Invoice|Your invoice is ready|true");
  free(rendered);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = "
                               "'notification.created' AND target_id = $1", id), 1);
  /* the audit row's details, written as JSON text by the committer */
  char *details = th_sql_text("SELECT details::text FROM audit_log WHERE action ="
                              " 'notification.created' AND target_id = $1", id);
  char want[160];
  snprintf(want, sizeof(want),
           "{\"user_id\": \"%s\", \"category\": \"billing\", \"priority\": \"high\"}", uid);
  assert_string_equal(details, want);
  free(details);
  /* Time-ordered ids (migration 0096): the notification, its deliveries and its audit entry
   * all carry version 7 ids whose first 48 bits are the millisecond they were made in. */
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n"
                               " JOIN deliveries d ON d.notification_id = n.id"
                               " JOIN audit_log a ON a.target_id = n.id::text"
                               " WHERE n.id = $1::uuid AND substr(n.id::text, 15, 1) = '7'"
                               "   AND substr(d.id::text, 15, 1) = '7'"
                               "   AND substr(a.id::text, 15, 1) = '7'"
                               "   AND abs(('x' || lpad(replace(left(n.id::text, 13), '-', ''),"
                               "                        16, '0'))::bit(64)::bigint"
                               "           - (extract(epoch FROM n.created_at) * 1000)::bigint)"
                               "       < 60000", id), 4);
  /* One instant for the whole send, the time its batch was read at: the 202's created_at is
   * the row's, its deliveries were created (and the in-app one sent) at that very instant and
   * are due then; the audit row comes from the statement written after that read. */
  char *created = th_sql_text("SELECT to_char(created_at AT TIME ZONE 'UTC',"
                              " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM notifications"
                              " WHERE id = $1::uuid", id);
  assert_string_equal(created, th_str(n, "created_at"));
  free(created);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n"
                               " JOIN deliveries d ON d.notification_id = n.id"
                               " WHERE n.id = $1::uuid AND d.created_at = n.created_at"
                               "   AND d.due_at = n.created_at"
                               "   AND (d.channel <> 'in_app' OR d.sent_at = n.created_at)", id),
                   4);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN audit_log a"
                               " ON a.target_id = n.id::text WHERE n.id = $1::uuid"
                               "   AND a.created_at > n.created_at", id), 1);
  json_decref(n);
  free(token);
}

static void put_prefs(const char *token, const char *body) {
  struct th_response r;
  th_call(&srv, token, "PUT", "/api/v1/users/me/preferences", body, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
}

static void test_preferences_and_missing_targets_skip(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&srv, "skip", NULL, uid);
  put_prefs(token, "{\"channels\":{\"email\":false},"
                   "\"categories\":{\"login\":{\"email\":true},\"promo\":{\"in_app\":false}}}");
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"billing\",\"body\":\"b\"}",
                      uid);
  th_assert_json_subset("{\"status\":\"skipped\",\"reason\":\"channel_disabled\"}",
                        ns_delivery(n, "email"));
  th_assert_json_subset("{\"status\":\"skipped\",\"reason\":\"no_phone\"}", ns_delivery(n, "sms"));
  th_assert_json_subset("{\"status\":\"skipped\",\"reason\":\"no_device\"}",
                        ns_delivery(n, "push"));
  th_assert_json_subset("{\"status\":\"sent\"}", ns_delivery(n, "in_app"));
  const char *email_id = th_str(ns_delivery(n, "email"), "id");
  assert_false(th_list_has("herald:q:{email}", email_id));
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE notification_id = $1::uuid"
                               " AND status = 'skipped'", th_str(n, "id")), 3);
  json_decref(n);
  /* A category's setting overrides the global one. */
  n = ns_send(&srv, admin,
              "{\"user_id\":\"%s\",\"category\":\"login\",\"body\":\"b\","
              "\"channels\":[\"email\"]}", uid);
  assert_int_equal(json_array_size(json_object_get(n, "deliveries")), 1);
  th_assert_json_subset("{\"status\":\"queued\"}", ns_delivery(n, "email"));
  assert_true(th_list_has("herald:q:{email}", th_str(ns_delivery(n, "email"), "id")));
  json_decref(n);
  /* in_app turned off: not in the feed. */
  n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"promo\",\"body\":\"b\","
                           "\"channels\":[\"in_app\"]}", uid);
  th_assert_json_subset("{\"status\":\"skipped\",\"reason\":\"channel_disabled\"}",
                        ns_delivery(n, "in_app"));
  json_decref(n);
  struct th_response r;
  th_call(&srv, token, "GET", "/api/v1/notifications?category=promo", NULL, NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
  th_response_free(&r);
  free(token);
}

/* Posts body and expects a 400 listing code for param among its errors. */
static void expect_field_error(const char *body, const char *param, const char *code) {
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  th_assert_field_error(&r, param, code);
  th_response_free(&r);
}

/* Bad input for every field: (body with @ for the user id, param, code). */
static const char *const bad_cases[][3] = {
  {"{\"category\":\"c\",\"body\":\"b\"}", "user_id", "missing_field"},
  {"{\"user_id\":\"nope\",\"category\":\"c\",\"body\":\"b\"}", "user_id", "invalid_id"},
  {"{\"user_id\":7,\"category\":\"c\",\"body\":\"b\"}", "user_id", "invalid_type"},
  {"{\"user_id\":\"@\",\"body\":\"b\"}", "category", "missing_field"},
  {"{\"user_id\":\"@\",\"category\":\"has space\",\"body\":\"b\"}", "category", "invalid_category"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"priority\":\"urgent\"}", "priority",
   "invalid_priority"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"channels\":\"email\"}", "channels",
   "invalid_type"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"channels\":[]}", "channels",
   "invalid_type"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"channels\":[\"fax\"]}", "channels",
   "unknown_channel"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"channels\":[\"sms\",\"sms\"]}",
   "channels", "duplicate_channel"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"template\":\"Bad Key\"}", "template",
   "invalid_template_key"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"template\":\"t\",\"body\":\"b\"}", "body",
   "not_allowed_with_template"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"data\":[1]}", "data", "invalid_type"},
  {"{\"user_id\":\"@\",\"category\":\"c\"}", "body", "missing_field"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"\"}", "body", "too_short"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"title\":{}}", "title", "invalid_type"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"action_url\":\"javascript:x\"}",
   "action_url", "invalid_url"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"send_at\":\"tomorrow\"}", "send_at",
   "invalid_timestamp"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"send_at\":\"2020-01-01T00:00:00Z\"}",
   "send_at", "send_at_in_past"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"send_at\":\"2099-01-01T00:00:00Z\"}",
   "send_at", "send_at_too_far"},
  {"{\"user_id\":\"@\",\"category\":\"c\",\"body\":\"b\",\"colour\":\"red\"}", "colour",
   "unknown_field"},
};

static void test_bad_input_for_every_field(void **state) {
  (void)state;
  char uid[37];
  free(th_user(&srv, "bad", NULL, uid));
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    char body[512];
    const char *at = strchr(bad_cases[i][0], '@');
    if (at == NULL) {
      snprintf(body, sizeof(body), "%s", bad_cases[i][0]);
    } else {
      snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - bad_cases[i][0]), bad_cases[i][0], uid,
               at + 1);
    }
    expect_field_error(body, bad_cases[i][1], bad_cases[i][2]);
  }
}

static void test_impossible_or_forbidden(void **state) {
  (void)state;
  char uid[37], b[512];
  free(th_user(&srv, "bad", NULL, uid));
  /* Every error is listed at once. */
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/notifications",
          "{\"user_id\":\"x\",\"category\":\"\",\"priority\":\"p\",\"send_at\":\"s\"}", NULL, &r);
  assert_int_equal(r.status, 400);
  assert_true(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")) >= 5);
  th_response_free(&r);
  /* Well-formed but impossible: an unknown user. */
  char unknown[37];
  h_uuid_v4(unknown);
  snprintf(b, sizeof(b), "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\"}", unknown);
  th_call(&srv, admin, "POST", "/api/v1/notifications", b, NULL, &r);
  th_assert_error(&r, 422, "user_not_found");
  th_response_free(&r);
  /* Who may send: admins and API keys, not users, not anonymous. */
  char *user = th_user(&srv, "notadmin", NULL, NULL);
  snprintf(b, sizeof(b), "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\"}", uid);
  th_call(&srv, user, "POST", "/api/v1/notifications", b, NULL, &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  th_call(&srv, NULL, "POST", "/api/v1/notifications", b, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);
  free(user);
}

static void test_api_key_can_send(void **state) {
  (void)state;
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"notif-test\"}", NULL, &r);
  assert_int_equal(r.status, 201);
  char *key = h_strdup(th_str(r.json, "secret"));
  th_response_free(&r);
  char uid[37];
  free(th_user(&srv, "apikey", NULL, uid));
  json_t *n = ns_send(&srv, key, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                 "\"channels\":[\"email\"]}", uid);
  th_assert_json_subset("{\"status\":\"queued\"}", n);
  json_decref(n);
  free(key);
}

static void test_send_at_schedules(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&srv, "later", "+14155550101", uid);
  time_t at = time(NULL) + 3600;
  char when[32];
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
  json_t *n = ns_send(&srv, admin,
                      "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"later\","
                      "\"channels\":[\"email\",\"sms\",\"in_app\"],\"send_at\":\"%s\"}",
                      uid, when);
  th_assert_json_subset("{\"status\":\"scheduled\"}", n);
  assert_string_equal(th_str(n, "send_at"), when);
  const char *channels[] = {"email", "sms"};
  for (int i = 0; i < 2; i++) {
    const json_t *d = ns_delivery(n, channels[i]);
    th_assert_json_subset("{\"status\":\"scheduled\"}", d);
    assert_string_equal(th_str(d, "due_at"), when);
    char key[64];
    snprintf(key, sizeof(key), "herald:delayed:{%s}", channels[i]);
    assert_int_equal((long)th_zscore(key, th_str(d, "id")), (long)at);
    snprintf(key, sizeof(key), "herald:q:{%s}", channels[i]);
    assert_false(th_list_has(key, th_str(d, "id")));
  }
  th_assert_json_subset("{\"status\":\"scheduled\"}", ns_delivery(n, "in_app"));
  /* Not in the feed before send_at. */
  struct th_response r;
  th_call(&srv, token, "GET", "/api/v1/notifications", NULL, NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
  assert_int_equal(json_integer_value(json_object_get(r.json, "unread_count")), 0);
  th_response_free(&r);
  json_decref(n);
  free(token);
}

static void create_template(void) {
  struct th_response r;
  th_call(&srv, admin, "DELETE", "/api/v1/admin/templates/notif-test-welcome", NULL, NULL, &r);
  th_response_free(&r);
  th_call(&srv, admin, "POST", "/api/v1/admin/templates",
          "{\"key\":\"notif-test-welcome\",\"name\":\"Welcome\",\"channels\":{"
          "\"email\":{\"subject\":\"Welcome {{name}}\",\"text\":\"Hi {{name}}, code {{code}}\","
          "\"html\":\"<p>Hi {{name}}</p>\"},"
          "\"sms\":{\"text\":\"Code {{code}}\"}},"
          "\"locales\":{\"fr\":{\"email\":{\"subject\":\"Bienvenue {{name}}\"}},"
          "\"pt\":{\"sms\":{\"text\":\"Codigo {{code}}\"}}}}",
          NULL, &r);
  assert_int_equal(r.status, 201);
  th_response_free(&r);
}

/* Sends the template to a new user with locale; returns the notification id (caller frees). */
static char *send_template(const char *locale, const char *data) {
  char uid[37];
  char *token = th_user(&srv, "tpl", "+14155550102", uid);
  char body[64];
  snprintf(body, sizeof(body), "{\"locale\":\"%s\"}", locale);
  struct th_response r;
  th_call(&srv, token, "PATCH", "/api/v1/users/me", body, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"welcome\",\"template\":"
                                   "\"notif-test-welcome\",\"data\":%s}", uid, data);
  assert_string_equal(th_str(n, "template"), "notif-test-welcome");
  char *id = h_strdup(th_str(n, "id"));
  json_decref(n);
  free(token);
  return id;
}

static char *rendered(const char *id, const char *path) {
  char sql[256];
  snprintf(sql, sizeof(sql), "SELECT rendered #>> '%s' FROM notifications WHERE id = $1::uuid",
           path);
  return th_sql_text(sql, id);
}

static void expect_rendered(const char *id, const char *path, const char *want) {
  char *got = rendered(id, path);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

static void test_template_rendering_and_locales(void **state) {
  (void)state;
  create_template();
  const char *data = "{\"name\":\"Ann <& co>\",\"code\":4711}";
  char *id = send_template("en", data);
  expect_rendered(id, "{email,subject}", "Welcome Ann <& co>");
  expect_rendered(id, "{email,text}", "Hi Ann <& co>, code 4711");
  expect_rendered(id, "{email,html}", "<p>Hi Ann &lt;&amp; co&gt;</p>");
  expect_rendered(id, "{sms,text}", "Code 4711");
  /* Channels the template leaves out get the generic title and body. */
  expect_rendered(id, "{in_app,title}", "Welcome Ann <& co>");
  expect_rendered(id, "{push,body}", "Code 4711");
  char *html = th_sql_text("SELECT html FROM notifications WHERE id = $1::uuid", id);
  assert_string_equal(html, "<p>Hi Ann &lt;&amp; co&gt;</p>");
  free(html);
  free(id);
  id = send_template("fr", data);
  expect_rendered(id, "{email,subject}", "Bienvenue Ann <& co>");
  expect_rendered(id, "{email,text}", "Hi Ann <& co>, code 4711"); /* field fallback */
  char *locale = th_sql_text("SELECT locale FROM notifications WHERE id = $1::uuid", id);
  assert_string_equal(locale, "fr");
  free(locale);
  free(id);
  id = send_template("pt-BR", data); /* language fallback */
  expect_rendered(id, "{sms,text}", "Codigo 4711");
  expect_rendered(id, "{email,subject}", "Welcome Ann <& co>");
  free(id);
  id = send_template("de", data); /* default locale */
  expect_rendered(id, "{email,subject}", "Welcome Ann <& co>");
  free(id);
}

static void test_template_errors(void **state) {
  (void)state;
  create_template();
  char uid[37];
  free(th_user(&srv, "tplerr", NULL, uid));
  char body[512];
  snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"welcome\","
           "\"template\":\"notif-test-welcome\",\"data\":{\"name\":\"Ann\"}}", uid);
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  th_assert_error(&r, 422, "missing_variable");
  assert_string_equal(th_str(json_object_get(r.json, "error"), "param"), "data.code");
  assert_non_null(strstr(th_str(json_object_get(r.json, "error"), "message"), "code"));
  th_response_free(&r);
  assert_int_equal(th_sql_long(SENT_TO, uid), 0);
  snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"welcome\","
           "\"template\":\"no-such-template\"}", uid);
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  th_assert_error(&r, 422, "template_not_found");
  th_response_free(&r);
}

/* ---- the feed ---- */

static json_t *feed(const char *token, const char *query, long status) {
  char path[256];
  snprintf(path, sizeof(path), "/api/v1/notifications%s", query);
  struct th_response r;
  th_call(&srv, token, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, status);
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

/* A new user with three feed notifications (billing/low, social/high, billing/critical, in
 * that order); ids receive them. Returns the user's token (caller frees). */
static char *feed_user(char uid[37], char ids[3][37]) {
  char *token = th_user(&srv, "feed", NULL, uid);
  const char *cats[] = {"billing", "social", "billing"};
  const char *prios[] = {"low", "high", "critical"};
  for (int i = 0; i < 3; i++) {
    json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"%s\",\"priority\":"
                                     "\"%s\",\"title\":\"T%d\",\"body\":\"B%d\"}",
                        uid, cats[i], prios[i], i, i);
    snprintf(ids[i], 37, "%s", th_str(n, "id"));
    json_decref(n);
  }
  return token;
}

static size_t page_size(const json_t *list) {
  return json_array_size(json_object_get(list, "data"));
}

static void test_feed_order_filters_cursor(void **state) {
  (void)state;
  char uid[37], ids[3][37], q[128];
  char *token = feed_user(uid, ids);
  json_t *list = feed(token, "", 200);
  th_assert_json_subset("{\"object\":\"list\",\"has_more\":false,\"unread_count\":3}", list);
  assert_int_equal(page_size(list), 3);
  assert_string_equal(th_str(json_array_get(json_object_get(list, "data"), 0), "id"), ids[2]);
  th_assert_json_subset("{\"title\":\"T2\",\"body\":\"B2\",\"read\":false,\"read_at\":null}",
                        json_array_get(json_object_get(list, "data"), 0));
  json_decref(list);
  list = feed(token, "?category=billing", 200);
  assert_int_equal(page_size(list), 2);
  json_decref(list);
  list = feed(token, "?priority=high", 200);
  assert_int_equal(page_size(list), 1);
  json_decref(list);
  list = feed(token, "?limit=1", 200);
  assert_true(json_is_true(json_object_get(list, "has_more")));
  json_decref(list);
  snprintf(q, sizeof(q), "?limit=2&starting_after=%s", ids[2]);
  list = feed(token, q, 200);
  assert_int_equal(page_size(list), 2);
  assert_string_equal(th_str(json_array_get(json_object_get(list, "data"), 0), "id"), ids[1]);
  assert_false(json_is_true(json_object_get(list, "has_more")));
  json_decref(list);
  free(token);
}

/* Sends method path as token and expects 200; returns the body (caller decrefs). */
static json_t *ok_call(const char *token, const char *method, const char *path) {
  struct th_response r;
  th_call(&srv, token, method, path, NULL, NULL, &r);
  if (r.status != 200) {
    fail_msg("%s %s: %ld %s", method, path, r.status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

static void test_feed_read_unread_read_all(void **state) {
  (void)state;
  char uid[37], ids[3][37], path[128];
  char *token = feed_user(uid, ids);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/read", ids[0]);
  json_t *n = ok_call(token, "POST", path);
  th_assert_json_subset("{\"read\":true}", n);
  assert_true(json_is_string(json_object_get(n, "read_at")));
  json_decref(n);
  json_t *list = feed(token, "?unread=true", 200);
  assert_int_equal(page_size(list), 2);
  assert_int_equal(json_integer_value(json_object_get(list, "unread_count")), 2);
  json_decref(list);
  list = feed(token, "?unread=false", 200);
  assert_int_equal(page_size(list), 1);
  json_decref(list);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unread", ids[0]);
  n = ok_call(token, "POST", path);
  th_assert_json_subset("{\"read\":false,\"read_at\":null}", n);
  json_decref(n);
  n = ok_call(token, "GET", "/api/v1/notifications/unread-count");
  th_assert_json_subset("{\"object\":\"unread_count\",\"unread_count\":3}", n);
  json_decref(n);
  n = ok_call(token, "POST", "/api/v1/notifications/read-all");
  th_assert_json_subset("{\"updated\":3,\"unread_count\":0}", n);
  json_decref(n);
  assert_int_equal(th_sql_long(SENT_TO " AND read_at IS NULL", uid), 0);
  free(token);
}

static void test_feed_delete(void **state) {
  (void)state;
  char uid[37], ids[3][37], path[128];
  char *token = feed_user(uid, ids);
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/notifications/%s", ids[1]);
  th_call(&srv, token, "DELETE", path, NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  th_call(&srv, token, "GET", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE id = $1::uuid"
                               " AND deleted_at IS NOT NULL", ids[1]), 1);
  json_t *list = feed(token, "", 200);
  assert_int_equal(page_size(list), 2);
  json_decref(list);
  free(token);
}

/* A user's row deleted by hand (Herald itself anonymises on erasure): its notifications and
 * their deliveries go with it, through the statement triggers of migrations 0091 and 0092
 * (neither table has a foreign key on those columns). */
static void test_user_row_deleted_takes_its_feed(void **state) {
  (void)state;
  char uid[37], ids[3][37];
  char *token = feed_user(uid, ids);
  assert_true(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid", uid) > 0);
  free(th_sql_text("DELETE FROM users WHERE id = $1::uuid RETURNING id", uid));
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid",
                               uid), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid", uid),
                   0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d WHERE NOT EXISTS"
                               " (SELECT 1 FROM notifications n WHERE n.id = d.notification_id)",
                               NULL), 0);
  free(token);
}

/* unread_count, has_more and the items of every kind of page (the plain first page, a page
 * after a cursor, a filtered page) follow each read, unread and delete at once. */
static void expect_page(const char *token, const char *query, size_t items, bool more,
                        long unread) {
  json_t *list = feed(token, query, 200);
  th_assert_json_subset("{\"object\":\"list\"}", list);
  assert_true(json_is_array(json_object_get(list, "data")));
  assert_int_equal(page_size(list), items);
  assert_int_equal(json_is_true(json_object_get(list, "has_more")), more);
  assert_int_equal(json_integer_value(json_object_get(list, "unread_count")), unread);
  json_decref(list);
}

static void test_feed_page_counts_follow_changes(void **state) {
  (void)state;
  char uid[37], ids[3][37], path[128], after[128];
  char *empty = th_user(&srv, "empty-feed", NULL, NULL);
  expect_page(empty, "", 0, false, 0);
  expect_page(empty, "?unread=true", 0, false, 0);
  free(empty);
  char *token = feed_user(uid, ids);
  snprintf(after, sizeof(after), "?starting_after=%s", ids[2]);
  expect_page(token, "", 3, false, 3);
  expect_page(token, "?limit=2", 2, true, 3);
  expect_page(token, "?limit=3", 3, false, 3);
  expect_page(token, after, 2, false, 3);
  snprintf(path, sizeof(path), "?limit=1&starting_after=%s", ids[2]);
  expect_page(token, path, 1, true, 3);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/read", ids[2]);
  json_decref(ok_call(token, "POST", path));
  expect_page(token, "", 3, false, 2);
  json_t *list = feed(token, "?limit=1", 200);
  th_assert_json_subset("{\"read\":true,\"archived\":false}",
                        json_array_get(json_object_get(list, "data"), 0));
  json_decref(list);
  expect_page(token, "?unread=true", 2, false, 2);
  expect_page(token, "?unread=true&limit=1", 1, true, 2);
  snprintf(path, sizeof(path), "?unread=true&starting_after=%s", ids[1]);
  expect_page(token, path, 1, false, 2);
  expect_page(token, "?unread=false", 1, false, 2);
  expect_page(token, after, 2, false, 2);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unread", ids[2]);
  json_decref(ok_call(token, "POST", path));
  expect_page(token, "", 3, false, 3);
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/notifications/%s", ids[0]);
  th_call(&srv, token, "DELETE", path, NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  expect_page(token, "", 2, false, 2);
  expect_page(token, after, 1, false, 2);
  expect_page(token, "?category=billing", 1, false, 2);
  json_decref(ok_call(token, "POST", "/api/v1/notifications/read-all"));
  expect_page(token, "", 2, false, 0);
  expect_page(token, "?unread=true", 0, false, 0);
  free(token);
}

/* The unread number of migration 0099 against the rows: the number kept for uid equals a
 * count of its unread in-app rows, and what the API shows (GET /unread-count and the feed's
 * body) is that less the rows scheduled for later. */
#define UNREAD_ROWS                                                                         \
  "SELECT count(*) FROM notifications WHERE user_id = $1::uuid AND in_app"                  \
  " AND deleted_at IS NULL AND read_at IS NULL"
#define UNREAD_KEPT                                                                         \
  "SELECT COALESCE((SELECT unread FROM notification_unread_counts WHERE user_id = $1::uuid),"\
  " -1)"

static void expect_unread(const char *token, const char *uid, long kept, long shown) {
  assert_int_equal(th_sql_long(UNREAD_ROWS, uid), kept);
  assert_int_equal(th_sql_long(UNREAD_KEPT, uid), kept);
  json_t *n = ok_call(token, "GET", "/api/v1/notifications/unread-count");
  assert_int_equal(json_integer_value(json_object_get(n, "unread_count")), shown);
  json_decref(n);
  json_t *list = feed(token, "?limit=1", 200);
  assert_int_equal(json_integer_value(json_object_get(list, "unread_count")), shown);
  json_decref(list);
}

static void test_unread_number_follows_every_change(void **state) {
  (void)state;
  char uid[37], ids[3][37], other[37], other_ids[3][37], path[128], both[80];
  char *token = feed_user(uid, ids);
  char *other_token = feed_user(other, other_ids);
  expect_unread(token, uid, 3, 3);
  /* Scheduled for later: kept, not shown until its time comes, which takes no write. */
  time_t at = time(NULL) + 3600;
  char when[32];
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
  json_t *later = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"l\","
                                       "\"channels\":[\"in_app\"],\"send_at\":\"%s\"}", uid, when);
  expect_unread(token, uid, 4, 3);
  free(th_sql_text("UPDATE notifications SET send_at = now() - interval '1 second'"
                   " WHERE id = $1::uuid RETURNING id", th_str(later, "id")));
  expect_unread(token, uid, 4, 4);
  json_decref(later);
  /* E-mail only: not in the feed, not counted. */
  json_decref(ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"e\","
                                   "\"channels\":[\"email\"]}", uid));
  expect_unread(token, uid, 4, 4);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/read", ids[0]);
  json_decref(ok_call(token, "POST", path));
  json_decref(ok_call(token, "POST", path)); /* read again: no change */
  expect_unread(token, uid, 3, 3);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unread", ids[0]);
  json_decref(ok_call(token, "POST", path));
  expect_unread(token, uid, 4, 4);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/archive", ids[1]); /* reads it too */
  json_decref(ok_call(token, "POST", path));
  expect_unread(token, uid, 3, 3);
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/unarchive", ids[1]);
  json_decref(ok_call(token, "POST", path));
  expect_unread(token, uid, 3, 3);
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/notifications/%s", ids[2]);
  th_call(&srv, token, "DELETE", path, NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  expect_unread(token, uid, 2, 2);
  /* One statement over two users' rows, then a row removed for good (retention). */
  snprintf(both, sizeof(both), "{%s,%s}", uid, other);
  free(th_sql_text("WITH u AS (UPDATE notifications SET read_at = now()"
                   " WHERE user_id = ANY($1::uuid[]) AND category = 'social' RETURNING 1)"
                   " SELECT count(*)::text FROM u", both));
  expect_unread(token, uid, 2, 2); /* its social row was read already (archived) */
  expect_unread(other_token, other, 2, 2);
  free(th_sql_text("DELETE FROM notifications WHERE id = $1::uuid RETURNING id", other_ids[0]));
  expect_unread(other_token, other, 1, 1);
  json_decref(ok_call(token, "POST", "/api/v1/notifications/read-all"));
  expect_unread(token, uid, 0, 0);
  /* A number gone wrong (rows loaded with triggers off) is set again by the recount. */
  free(th_sql_text("UPDATE notification_unread_counts SET unread = 7 WHERE user_id = $1::uuid"
                   " RETURNING user_id", other));
  assert_true(th_sql_long("SELECT notification_unread_recount()", NULL) >= 1);
  expect_unread(other_token, other, 1, 1);
  json_decref(ok_call(other_token, "POST", "/api/v1/notifications/clear"));
  expect_unread(other_token, other, 0, 0);
  /* The user's number goes with the user. */
  free(th_sql_text("DELETE FROM users WHERE id = $1::uuid RETURNING id", other));
  assert_int_equal(th_sql_long("SELECT count(*) FROM notification_unread_counts"
                               " WHERE user_id = $1::uuid", other), 0);
  free(other_token);
  free(token);
}

/* The page joins its items' texts with U+001E inside PostgreSQL (common/inbox/feed_repo.c): a
 * notification holding that character (and a comma, a bracket, a quote) still comes back
 * whole, and the page cut after it is right. */
static void test_feed_items_with_separator_characters(void **state) {
  (void)state;
  char uid[37], ids[3][37];
  char *token = feed_user(uid, ids);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\","
                                   "\"title\":\"a\\u001eb,c]\","
                                   "\"body\":\"\\u001e\\\"},{\\u001e\"}", uid);
  json_decref(n);
  json_t *list = feed(token, "?limit=1", 200);
  assert_int_equal(page_size(list), 1);
  assert_true(json_is_true(json_object_get(list, "has_more")));
  const json_t *item = json_array_get(json_object_get(list, "data"), 0);
  assert_string_equal(th_str(item, "title"), "a\x1e" "b,c]");
  assert_string_equal(th_str(item, "body"), "\x1e\"},{\x1e");
  json_decref(list);
  list = feed(token, "?limit=2", 200);
  assert_int_equal(page_size(list), 2);
  assert_string_equal(th_str(json_array_get(json_object_get(list, "data"), 1), "id"), ids[2]);
  json_decref(list);
  list = feed(token, "?limit=4", 200);
  assert_int_equal(page_size(list), 4);
  assert_false(json_is_true(json_object_get(list, "has_more")));
  assert_int_equal(json_integer_value(json_object_get(list, "unread_count")), 4);
  json_decref(list);
  free(token);
}

static void test_feed_privacy_and_admin_view(void **state) {
  (void)state;
  char uid[37];
  char *owner = th_user(&srv, "owner", NULL, uid);
  char *other = th_user(&srv, "other", NULL, NULL);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"mine\"}",
                      uid);
  char path[128];
  struct th_response r;
  const char *suffixes[][2] = {{"GET", ""}, {"POST", "/read"}, {"POST", "/unread"},
                               {"DELETE", ""}};
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof(path), "/api/v1/notifications/%s%s", th_str(n, "id"), suffixes[i][1]);
    th_call(&srv, other, suffixes[i][0], path, NULL, NULL, &r);
    th_assert_error(&r, 404, "not_found");
    th_response_free(&r);
  }
  snprintf(path, sizeof(path), "/api/v1/notifications/%s", th_str(n, "id"));
  th_call(&srv, owner, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(json_object_get(r.json, "deliveries"));
  th_response_free(&r);
  th_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "deliveries")), 4);
  assert_string_equal(th_str(r.json, "user_id"), uid);
  th_response_free(&r);
  th_call(&srv, owner, "GET", "/api/v1/notifications/not-a-uuid", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  th_call(&srv, owner, "GET", "/api/v1/notifications?unread=maybe&priority=x&limit=0&category="
                            "a%20b", NULL, NULL, &r);
  th_assert_error(&r, 400, "invalid_limit");
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   4);
  th_response_free(&r);
  /* Literal siblings of /notifications/:id own their paths. */
  th_call(&srv, owner, "DELETE", "/api/v1/notifications/unread-count", NULL, NULL, &r);
  th_assert_error(&r, 405, "method_not_allowed");
  assert_string_equal(th_header(&r, "Allow"), "GET");
  th_response_free(&r);
  th_call(&srv, admin, "GET", "/api/v1/notifications/bulk", NULL, NULL, &r);
  th_assert_error(&r, 405, "method_not_allowed");
  assert_string_equal(th_header(&r, "Allow"), "POST");
  th_response_free(&r);
  json_decref(n);
  free(owner);
  free(other);
}

/* ---- idempotency ---- */

static void test_idempotent_replay_and_reuse(void **state) {
  (void)state;
  char uid[37], key[80], body[256], header[128];
  free(th_user(&srv, "idem", NULL, uid));
  snprintf(key, sizeof(key), "idem-%s", uid);
  snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
  snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"once\"}", uid);
  struct th_response a, b;
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, header, &a);
  assert_int_equal(a.status, 202);
  assert_string_equal(th_header(&a, "Content-Type"), "application/json");
  assert_null(th_header(&a, "Idempotent-Replayed"));
  assert_string_equal(th_str(a.json, "object"), "notification");
  /* the first answer is the very text its record stored */
  char *stored = th_sql_text("SELECT response_body FROM idempotency_keys WHERE key = $1", key);
  assert_string_equal(a.body, stored);
  free(stored);
  /* The same request again (keys in another order): the stored response. */
  snprintf(body, sizeof(body), "{\"body\":\"once\",\"category\":\"c\",\"user_id\":\"%s\"}", uid);
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, header, &b);
  assert_int_equal(b.status, 202);
  assert_string_equal(a.body, b.body);
  assert_string_equal(th_header(&b, "Idempotent-Replayed"), "true");
  th_response_free(&b);
  assert_int_equal(th_sql_long(SENT_TO, uid), 1);
  /* Another request with the same key. */
  snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"twice\"}", uid);
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, header, &b);
  th_assert_error(&b, 400, "idempotency_key_reused");
  assert_string_equal(th_str(json_object_get(b.json, "error"), "type"), "idempotency_error");
  th_response_free(&b);
  /* Keys belong to their caller: another admin's same key is a new request. */
  char *admin2 = th_admin_token(&srv, NULL);
  th_call(&srv, admin2, "POST", "/api/v1/notifications", body, header, &b);
  assert_int_equal(b.status, 202);
  th_response_free(&b);
  free(admin2);
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, "Idempotency-Key: has space", &b);
  th_assert_error(&b, 400, "invalid_idempotency_key");
  th_response_free(&b);
  assert_int_equal(th_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1"
                               " AND status = 'completed' AND response_status = 202", key), 2);
  th_response_free(&a);
}

struct racer {
  const char *body, *key;
  long status;
};

static void *race(void *arg) {
  struct racer *rc = arg;
  char auth[4200];
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin);
  const char *h[] = {auth, rc->key, NULL};
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/notifications", h, rc->body, &r);
  rc->status = r.status;
  th_response_free(&r);
  return NULL;
}

static void test_ten_concurrent_identical_requests(void **state) {
  (void)state;
  char uid[37], body[256], header[128];
  free(th_user(&srv, "race", NULL, uid));
  snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"race\",\"body\":\"x\"}", uid);
  snprintf(header, sizeof(header), "Idempotency-Key: race-%s", uid);
  pthread_t threads[10];
  struct racer racers[10];
  for (int i = 0; i < 10; i++) {
    racers[i] = (struct racer){body, header, 0};
    pthread_create(&threads[i], NULL, race, &racers[i]);
  }
  int accepted = 0;
  for (int i = 0; i < 10; i++) {
    pthread_join(threads[i], NULL);
    assert_true(racers[i].status == 202 || racers[i].status == 409);
    accepted += racers[i].status == 202;
  }
  assert_true(accepted >= 1);
  assert_int_equal(th_sql_long(SENT_TO, uid), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid"
                               " AND channel <> 'email'", uid), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_send_every_channel),
    cmocka_unit_test(test_preferences_and_missing_targets_skip),
    cmocka_unit_test(test_bad_input_for_every_field),
    cmocka_unit_test(test_impossible_or_forbidden),
    cmocka_unit_test(test_api_key_can_send),
    cmocka_unit_test(test_send_at_schedules),
    cmocka_unit_test(test_template_rendering_and_locales),
    cmocka_unit_test(test_template_errors),
    cmocka_unit_test(test_feed_order_filters_cursor),
    cmocka_unit_test(test_feed_read_unread_read_all),
    cmocka_unit_test(test_feed_delete),
    cmocka_unit_test(test_user_row_deleted_takes_its_feed),
    cmocka_unit_test(test_feed_page_counts_follow_changes),
    cmocka_unit_test(test_unread_number_follows_every_change),
    cmocka_unit_test(test_feed_items_with_separator_characters),
    cmocka_unit_test(test_feed_privacy_and_admin_view),
    cmocka_unit_test(test_idempotent_replay_and_reuse),
    cmocka_unit_test(test_ten_concurrent_identical_requests),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: preferences, devices, templates (admin), and the operators' view of queues
 * and deliveries (lengths, listing, stats, retry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "notif_support.h"
#include "store/redis.h"

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

/* Sends and expects status; returns the body (caller json_decref()s). */
static json_t *expect(const char *token, const char *method, const char *path, const char *body,
                      long status) {
  struct th_response r;
  th_call(&srv, token, method, path, body, NULL, &r);
  if (r.status != status) {
    fail_msg("%s %s %s: expected %ld, got %ld %s", method, path, body ? body : "", status,
             r.status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

/* Expects a 400 whose errors hold exactly the (param, code) pairs of want, in any order. */
static void expect_errors(const char *token, const char *method, const char *path,
                          const char *body, const char *const want[][2], size_t n) {
  json_t *r = expect(token, method, path, body, 400);
  json_t *errors = json_object_get(json_object_get(r, "error"), "errors");
  for (size_t w = 0; w < n; w++) {
    bool found = false;
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
      found |= strcmp(th_str(e, "param"), want[w][0]) == 0 &&
               strcmp(th_str(e, "code"), want[w][1]) == 0;
    }
    if (!found) {
      char *text = json_dumps(r, 0);
      fail_msg("%s: no %s/%s in %s", body, want[w][0], want[w][1], text);
    }
  }
  assert_int_equal(json_array_size(errors), n);
  json_decref(r);
}

static void test_preferences(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&srv, "prefs", NULL, uid);
  json_t *p = expect(token, "GET", "/api/v1/users/me/preferences", NULL, 200);
  th_assert_json_subset("{\"object\":\"notification_preferences\",\"channels\":{\"in_app\":true,"
                        "\"email\":true,\"sms\":true,\"push\":true},\"categories\":{},"
                        "\"quiet_hours\":{\"enabled\":false,\"timezone\":\"UTC\"}}", p);
  json_decref(p);
  p = expect(token, "PUT", "/api/v1/users/me/preferences",
             "{\"channels\":{\"sms\":false},\"categories\":{\"marketing\":{\"email\":false}},"
             "\"quiet_hours\":{\"enabled\":true,\"start\":\"22:00\",\"end\":\"07:00\","
             "\"timezone\":\"Europe/Paris\"}}", 200);
  th_assert_json_subset("{\"channels\":{\"sms\":false,\"email\":true},\"categories\":{"
                        "\"marketing\":{\"email\":false}},\"quiet_hours\":{\"enabled\":true,"
                        "\"start\":\"22:00\",\"end\":\"07:00\",\"timezone\":\"Europe/Paris\"}}", p);
  json_decref(p);
  /* A section left out is kept. */
  p = expect(token, "PUT", "/api/v1/users/me/preferences", "{\"channels\":{\"push\":false}}", 200);
  th_assert_json_subset("{\"channels\":{\"sms\":true,\"push\":false},\"categories\":{"
                        "\"marketing\":{\"email\":false}},\"quiet_hours\":{\"enabled\":true}}", p);
  json_decref(p);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notification_preferences WHERE user_id ="
                               " $1::uuid AND quiet_timezone = 'Europe/Paris'", uid), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action ="
                               " 'preferences.updated' AND actor_id = $1::uuid", uid), 2);
  static const char *const e1[][2] = {{"channels.fax", "unknown_channel"},
                                      {"channels.sms", "invalid_type"},
                                      {"categories.bad cat", "invalid_category"},
                                      {"categories.ok.pager", "unknown_channel"},
                                      {"volume", "unknown_field"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences",
                "{\"channels\":{\"fax\":true,\"sms\":\"no\"},\"categories\":{\"bad cat\":{},"
                "\"ok\":{\"pager\":true}},\"volume\":3}", e1, 5);
  static const char *const e2[][2] = {{"quiet_hours.start", "invalid_time"},
                                      {"quiet_hours.end", "invalid_time"},
                                      {"quiet_hours.timezone", "invalid_timezone"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences",
                "{\"quiet_hours\":{\"enabled\":true,\"start\":\"25:00\",\"end\":\"7pm\","
                "\"timezone\":\"Mars/Olympus\"}}", e2, 3);
  static const char *const e3[][2] = {{"quiet_hours.start", "missing_field"},
                                      {"quiet_hours.end", "missing_field"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences",
                "{\"quiet_hours\":{\"enabled\":true}}", e3, 2);
  static const char *const e4[][2] = {{"quiet_hours.end", "empty_window"},
                                      {"quiet_hours.mode", "unknown_field"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences",
                "{\"quiet_hours\":{\"enabled\":true,\"start\":\"08:00\",\"end\":\"08:00\","
                "\"mode\":1}}", e4, 2);
  static const char *const e5[][2] = {{"quiet_hours.enabled", "missing_field"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences", "{\"quiet_hours\":{}}", e5, 1);
  static const char *const e6[][2] = {{"channels", "invalid_type"}, {"categories", "invalid_type"},
                                      {"quiet_hours", "invalid_type"}};
  expect_errors(token, "PUT", "/api/v1/users/me/preferences",
                "{\"channels\":[],\"categories\":1,\"quiet_hours\":\"on\"}", e6, 3);
  json_decref(expect(NULL, "GET", "/api/v1/users/me/preferences", NULL, 401));
  free(token);
}

static void test_devices(void **state) {
  (void)state;
  char a_id[37], b_id[37], tok[160];
  char *a = th_user(&srv, "deva", NULL, a_id);
  char *b = th_user(&srv, "devb", NULL, b_id);
  snprintf(tok, sizeof(tok), "{\"token\":\"fcm-%s\",\"platform\":\"ios\",\"app_version\":\"1.2\"}",
           a_id);
  json_t *d1 = expect(a, "POST", "/api/v1/devices", tok, 201);
  th_assert_json_subset("{\"object\":\"device\",\"platform\":\"ios\",\"app_version\":\"1.2\","
                        "\"active\":true}", d1);
  json_t *d2 = expect(a, "POST", "/api/v1/devices", tok, 200);
  assert_string_equal(th_str(d1, "id"), th_str(d2, "id"));
  json_decref(d2);
  /* The same token from another account moves the device. */
  d2 = expect(b, "POST", "/api/v1/devices", tok, 200);
  assert_string_equal(th_str(d1, "id"), th_str(d2, "id"));
  json_decref(d2);
  json_t *list = expect(a, "GET", "/api/v1/devices", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 0);
  json_decref(list);
  list = expect(b, "GET", "/api/v1/devices", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 1);
  json_decref(list);
  assert_int_equal(th_sql_long("SELECT count(*) FROM devices WHERE user_id = $1::uuid", b_id), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = 'device.moved'"
                               " AND target_id = $1", th_str(d1, "id")), 1);
  /* the previous owner is told by e-mail, queued for the e-mail worker */
  char *notice = th_sql_text("SELECT d.id FROM deliveries d JOIN notifications n"
                             " ON n.id = d.notification_id WHERE n.user_id = $1::uuid"
                             " AND n.template_key = 'device_moved' AND d.channel = 'email'", a_id);
  assert_non_null(notice);
  assert_true(th_list_has("herald:q:{email}", notice));
  free(notice);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND template_key = 'device_moved'", b_id), 0);
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/devices/%s", th_str(d1, "id"));
  json_decref(expect(a, "DELETE", path, NULL, 404));
  json_decref(expect(b, "DELETE", path, NULL, 204));
  json_decref(expect(b, "DELETE", path, NULL, 404));
  json_decref(expect(b, "DELETE", "/api/v1/devices/nope", NULL, 404));
  assert_int_equal(th_sql_long("SELECT count(*) FROM devices WHERE user_id = $1::uuid", b_id), 0);
  static const char *const e1[][2] = {{"token", "missing_field"},
                                      {"platform", "invalid_platform"},
                                      {"app_version", "invalid_type"},
                                      {"model", "unknown_field"}};
  expect_errors(a, "POST", "/api/v1/devices",
                "{\"platform\":\"symbian\",\"app_version\":2,\"model\":\"x\"}", e1, 4);
  static const char *const e2[][2] = {{"token", "too_short"}, {"platform", "missing_field"}};
  expect_errors(a, "POST", "/api/v1/devices", "{\"token\":\"\"}", e2, 2);
  json_decref(d1);
  free(a);
  free(b);
}

static const char *TEMPLATE =
    "{\"key\":\"settings-test\",\"name\":\"Receipt\",\"default_locale\":\"en\",\"channels\":{"
    "\"email\":{\"subject\":\"Receipt {{n}}\",\"text\":\"Paid {{amount}}\","
    "\"html\":\"<b>{{amount}}</b>\"},\"push\":{\"title\":\"Paid\",\"body\":\"{{amount}}\"}},"
    "\"locales\":{\"fr\":{\"email\":{\"subject\":\"Recu {{n}}\"}}}}";

static void test_templates(void **state) {
  (void)state;
  free(th_sql_text("DELETE FROM templates WHERE key = 'settings-test' RETURNING key", NULL));
  json_t *t = expect(admin, "POST", "/api/v1/admin/templates", TEMPLATE, 201);
  th_assert_json_subset("{\"object\":\"template\",\"key\":\"settings-test\",\"name\":\"Receipt\","
                        "\"locales\":{\"fr\":{\"email\":{\"subject\":\"Recu {{n}}\"}}}}", t);
  json_decref(t);
  json_t *e = expect(admin, "POST", "/api/v1/admin/templates", TEMPLATE, 409);
  assert_string_equal(th_str(json_object_get(e, "error"), "code"), "template_exists");
  json_decref(e);
  t = expect(admin, "GET", "/api/v1/admin/templates/settings-test", NULL, 200);
  assert_string_equal(th_str(json_object_get(json_object_get(t, "channels"), "push"), "title"),
                      "Paid");
  json_decref(t);
  json_t *list = expect(admin, "GET", "/api/v1/admin/templates?limit=100", NULL, 200);
  assert_true(json_array_size(json_object_get(list, "data")) >= 1);
  json_decref(list);
  /* Preview: locale, escaping, missing variable. */
  json_t *p = expect(admin, "POST", "/api/v1/admin/templates/settings-test/preview",
                     "{\"data\":{\"n\":7,\"amount\":\"<5 EUR>\"},\"locale\":\"fr-CA\"}", 200);
  th_assert_json_subset("{\"object\":\"template_preview\",\"locale\":\"fr\",\"channels\":{"
                        "\"email\":{\"subject\":\"Recu 7\",\"text\":\"Paid <5 EUR>\","
                        "\"html\":\"<b>&lt;5 EUR&gt;</b>\"},\"push\":{\"body\":\"<5 EUR>\"}}}", p);
  json_decref(p);
  p = expect(admin, "POST", "/api/v1/admin/templates/settings-test/preview",
             "{\"data\":{\"n\":7,\"amount\":1}}", 200);
  th_assert_json_subset("{\"locale\":\"en\",\"channels\":{\"email\":{\"subject\":\"Receipt 7\"}}}",
                        p);
  json_decref(p);
  e = expect(admin, "POST", "/api/v1/admin/templates/settings-test/preview", "{\"data\":{}}",
             422);
  th_assert_json_subset("{\"error\":{\"code\":\"missing_variable\",\"param\":\"data.n\"}}", e);
  json_decref(e);
  static const char *const pe[][2] = {{"locale", "invalid_locale"}, {"data", "invalid_type"}};
  expect_errors(admin, "POST", "/api/v1/admin/templates/settings-test/preview",
                "{\"data\":[],\"locale\":\"fr_FR\"}", pe, 2);
  /* Replace, then delete. */
  t = expect(admin, "PUT", "/api/v1/admin/templates/settings-test",
             "{\"channels\":{\"sms\":{\"text\":\"Paid {{amount}}\"}}}", 200);
  assert_null(json_object_get(json_object_get(t, "channels"), "email"));
  json_decref(t);
  static const char *const ke[][2] = {{"key", "key_mismatch"}};
  expect_errors(admin, "PUT", "/api/v1/admin/templates/settings-test",
                "{\"key\":\"other\",\"channels\":{\"sms\":{\"text\":\"x\"}}}", ke, 1);
  json_decref(expect(admin, "PUT", "/api/v1/admin/templates/no-such",
                     "{\"channels\":{\"sms\":{\"text\":\"x\"}}}", 404));
  json_decref(expect(admin, "DELETE", "/api/v1/admin/templates/settings-test", NULL, 204));
  json_decref(expect(admin, "GET", "/api/v1/admin/templates/settings-test", NULL, 404));
  json_decref(expect(admin, "GET", "/api/v1/admin/templates/Not%20A%20Key", NULL, 404));
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_type = 'template'"
                               " AND target_id = 'settings-test' AND action LIKE 'template.%'",
                               NULL) >= 3, 1);
}

static void test_template_validation(void **state) {
  (void)state;
  static const char *const e1[][2] = {{"key", "invalid_template_key"},
                                      {"channels.email.subject", "missing_field"},
                                      {"channels.fax", "unknown_channel"},
                                      {"channels.sms.text", "invalid_template"},
                                      {"locales.french", "invalid_locale"},
                                      {"locales.fr.push.icon", "unknown_field"},
                                      {"default_locale", "invalid_locale"}};
  expect_errors(admin, "POST", "/api/v1/admin/templates",
                "{\"key\":\"Bad Key\",\"default_locale\":\"xx_YY\",\"channels\":{"
                "\"email\":{\"text\":\"t\"},\"fax\":{},\"sms\":{\"text\":\"{{oops\"}},"
                "\"locales\":{\"french\":{},\"fr\":{\"push\":{\"icon\":\"x\"}}}}", e1, 7);
  static const char *const e2[][2] = {{"key", "missing_field"}, {"channels", "missing_field"}};
  expect_errors(admin, "POST", "/api/v1/admin/templates", "{}", e2, 2);
  static const char *const e3[][2] = {{"channels", "missing_field"}};
  expect_errors(admin, "POST", "/api/v1/admin/templates", "{\"key\":\"k\",\"channels\":{}}", e3,
                1);
  char *user = th_user(&srv, "tplnotadmin", NULL, NULL);
  json_decref(expect(user, "GET", "/api/v1/admin/templates", NULL, 403));
  json_decref(expect(user, "POST", "/api/v1/admin/templates", TEMPLATE, 403));
  free(user);
}

/* LPUSHes id onto key through a fresh connection. */
static void lpush(const char *key, const char *id) {
  struct h_redis_target t;
  h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t);
  struct h_redis r;
  h_redis_init(&r, &t);
  const char *argv[] = {"LPUSH", key, id};
  assert_int_equal(h_redis_argv(&r, NULL, 3, argv), H_OK);
  h_redis_close(&r);
}

static json_int_t queue_field(const json_t *list, const char *queue, const char *field) {
  size_t i;
  json_t *q;
  json_array_foreach(json_object_get(list, "data"), i, q) {
    if (strcmp(th_str(q, "name"), queue) == 0) {
      return json_integer_value(json_object_get(q, field));
    }
  }
  fail_msg("no queue %s", queue);
  return -1;
}

static void test_admin_queues(void **state) {
  (void)state;
  char worker[64], id[37];
  snprintf(worker, sizeof(worker), "herald:q:{push}:proc:test-%ld", (long)time(NULL));
  h_uuid_v4(id);
  lpush(worker, id);
  lpush(worker, id);
  lpush("herald:dlq:{push}", id);
  json_t *list = expect(admin, "GET", "/api/v1/admin/queues", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 5);
  assert_true(queue_field(list, "webhook", "ready") >= 0);
  assert_true(queue_field(list, "push", "processing") >= 2);
  assert_true(queue_field(list, "push", "workers") >= 1);
  assert_true(queue_field(list, "push", "dead") >= 1);
  assert_true(queue_field(list, "email", "ready") >= 0);
  assert_true(queue_field(list, "sms", "delayed") >= 0);
  th_assert_json_subset("{\"object\":\"list\",\"has_more\":false}", list);
  json_decref(list);
  char *user = th_user(&srv, "qnotadmin", NULL, NULL);
  json_decref(expect(user, "GET", "/api/v1/admin/queues", NULL, 403));
  free(user);
}

static void test_admin_deliveries(void **state) {
  (void)state;
  char uid[37], path[256];
  char *token = th_user(&srv, "deliv", "+14155550103", uid);
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\"}", uid);
  snprintf(path, sizeof(path), "/api/v1/admin/deliveries?user_id=%s&limit=100", uid);
  json_t *list = expect(admin, "GET", path, NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 5); /* + verification e-mail */
  json_decref(list);
  snprintf(path, sizeof(path), "/api/v1/admin/deliveries?user_id=%s&status=skipped&channel=push",
           uid);
  list = expect(admin, "GET", path, NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 1);
  th_assert_json_subset("{\"object\":\"delivery\",\"channel\":\"push\",\"status\":\"skipped\","
                        "\"reason\":\"no_device\"}",
                        json_array_get(json_object_get(list, "data"), 0));
  json_decref(list);
  snprintf(path, sizeof(path), "/api/v1/admin/deliveries?notification_id=%s&limit=1",
           th_str(n, "id"));
  list = expect(admin, "GET", path, NULL, 200);
  assert_true(json_is_true(json_object_get(list, "has_more")));
  json_decref(list);
  snprintf(path, sizeof(path),
           "/api/v1/admin/deliveries?user_id=%s&created_gte=2099-01-01T00:00:00Z", uid);
  list = expect(admin, "GET", path, NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "data")), 0);
  json_decref(list);
  static const char *const e1[][2] = {{"status", "invalid_filter"},
                                      {"channel", "invalid_filter"},
                                      {"user_id", "invalid_id"},
                                      {"created_lte", "invalid_timestamp"},
                                      {"limit", "invalid_limit"}};
  expect_errors(admin, "GET",
                "/api/v1/admin/deliveries?status=lost&channel=fax&user_id=1&created_lte=today"
                "&limit=500", NULL, e1, 5);
  /* Stats since a moment before this test's deliveries. */
  json_t *stats = expect(admin, "GET", "/api/v1/admin/deliveries/stats", NULL, 200);
  th_assert_json_subset("{\"object\":\"delivery_stats\"}", stats);
  assert_true(json_integer_value(json_object_get(stats, "total")) >= 4);
  assert_true(json_integer_value(json_object_get(
                  json_object_get(json_object_get(stats, "by_channel"), "sms"), "queued")) >= 1);
  assert_true(json_is_integer(json_object_get(json_object_get(stats, "by_status"), "dead")));
  json_decref(stats);
  stats = expect(admin, "GET", "/api/v1/admin/deliveries/stats?since=2099-01-01T00:00:00Z", NULL,
                 200);
  assert_int_equal(json_integer_value(json_object_get(stats, "total")), 0);
  json_decref(stats);
  static const char *const e2[][2] = {{"since", "invalid_timestamp"}};
  expect_errors(admin, "GET", "/api/v1/admin/deliveries/stats?since=yesterday", NULL, e2, 1);
  json_decref(n);
  free(token);
}

static void test_retry(void **state) {
  (void)state;
  char uid[37], path[128];
  free(th_user(&srv, "retry", "+14155550104", uid));
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                   "\"channels\":[\"sms\"]}", uid);
  const char *id = th_str(ns_delivery(n, "sms"), "id");
  snprintf(path, sizeof(path), "/api/v1/admin/deliveries/%s/retry", id);
  json_t *e = expect(admin, "POST", path, NULL, 409); /* queued: nothing to retry */
  assert_string_equal(th_str(json_object_get(e, "error"), "code"), "not_retryable");
  json_decref(e);
  /* What a worker does after the last attempt. */
  char *ok = th_sql_text("UPDATE deliveries SET status = 'dead', attempts = 5,"
                         " last_error = 'provider said no' WHERE id = $1::uuid RETURNING 'ok'", id);
  free(ok);
  lpush("herald:dlq:{sms}", id);
  json_t *d = expect(admin, "POST", path, NULL, 200);
  th_assert_json_subset("{\"status\":\"queued\",\"attempts\":0,"
                        "\"last_error\":\"provider said no\"}", d);
  json_decref(d);
  assert_true(th_list_has("herald:q:{sms}", id));
  assert_false(th_list_has("herald:dlq:{sms}", id));
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = 'delivery.retried'"
                               " AND target_id = $1", id), 1);
  ok = th_sql_text("UPDATE deliveries SET status = 'failed' WHERE id = $1::uuid"
                   " RETURNING 'ok'", id);
  free(ok);
  json_decref(expect(admin, "POST", path, NULL, 200));
  char unknown[37], upath[128];
  h_uuid_v4(unknown);
  snprintf(upath, sizeof(upath), "/api/v1/admin/deliveries/%s/retry", unknown);
  json_decref(expect(admin, "POST", upath, NULL, 404));
  json_decref(expect(admin, "POST", "/api/v1/admin/deliveries/x/retry", NULL, 404));
  json_decref(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_preferences),
    cmocka_unit_test(test_devices),
    cmocka_unit_test(test_templates),
    cmocka_unit_test(test_template_validation),
    cmocka_unit_test(test_admin_queues),
    cmocka_unit_test(test_admin_deliveries),
    cmocka_unit_test(test_retry),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

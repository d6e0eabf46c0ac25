/* Integration: the `push` object of POST /api/v1/notifications and /announcements and the
 * FCM limits on `data` (reserved keys, 4 KB as strings): every bad input is a 400 before
 * anything is queued; good options are stored with the notification for herald-push. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notif_support.h"

static struct th_server srv;
static char *admin;
static char uid[37];

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, NULL);
  free(th_user(&srv, "push", NULL, uid));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

/* (the send's extra members, param, code) */
static const char *const bad_cases[][3] = {
  {"\"push\":true", "push", "invalid_type"},
  {"\"push\":{\"silent\":\"yes\"}", "push.silent", "invalid_type"},
  {"\"push\":{\"badge\":1}", "push.badge", "invalid_type"},
  {"\"push\":{\"priority\":\"urgent\"}", "push.priority", "invalid_priority"},
  {"\"push\":{\"ttl\":-1}", "push.ttl", "invalid_ttl"},
  {"\"push\":{\"ttl\":2419201}", "push.ttl", "invalid_ttl"},
  {"\"push\":{\"ttl\":\"60s\"}", "push.ttl", "invalid_ttl"},
  {"\"push\":{\"collapse_key\":\"has space\"}", "push.collapse_key", "invalid_collapse_key"},
  {"\"push\":{\"collapse_key\":\"\"}", "push.collapse_key", "invalid_collapse_key"},
  {"\"push\":{\"sound\":\"x\"}", "push.sound", "unknown_field"},
  {"\"push\":{\"android\":[]}", "push.android", "invalid_type"},
  {"\"push\":{\"android\":{\"priority\":\"high\"}}", "push.android.priority", "invalid_priority"},
  {"\"push\":{\"android\":{\"ttl\":\"60\"}}", "push.android.ttl", "invalid_duration"},
  {"\"push\":{\"android\":{\"notification\":\"x\"}}", "push.android.notification",
   "invalid_type"},
  {"\"push\":{\"android\":{\"direct_boot_ok\":1}}", "push.android.direct_boot_ok",
   "invalid_type"},
  {"\"push\":{\"android\":{\"token\":\"x\"}}", "push.android.token", "unknown_field"},
  {"\"push\":{\"apns\":{\"headers\":{\"apns-priority\":10}}}", "push.apns.headers.apns-priority",
   "invalid_header"},
  {"\"push\":{\"apns\":{\"headers\":{\"authorization\":\"x\"}}}",
   "push.apns.headers.authorization", "invalid_header"},
  {"\"push\":{\"apns\":{\"payload\":1}}", "push.apns.payload", "invalid_type"},
  {"\"push\":{\"apns\":{\"token\":\"x\"}}", "push.apns.token", "unknown_field"},
  {"\"data\":{\"google.c.a\":\"x\"}", "data.google.c.a", "reserved_key"},
  {"\"data\":{\"from\":\"x\"}", "data.from", "reserved_key"},
  {"\"data\":{\"delivery_id\":\"x\"}", "data.delivery_id", "reserved_key"},
};

static void expect_error(const char *path, const char *extra, const char *param,
                         const char *code) {
  char body[6000];
  if (strcmp(path, "/api/v1/notifications") == 0) {
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\",%s}", uid,
             extra);
  } else {
    snprintf(body, sizeof(body), "{\"target\":\"admins\",\"body\":\"b\",%s}", extra);
  }
  struct th_response r;
  th_call(&srv, admin, "POST", path, body, NULL, &r);
  th_assert_field_error(&r, param, code);
  th_response_free(&r);
}

static void test_bad_push_options(void **state) {
  (void)state;
  long before = th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid", uid);
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    expect_error("/api/v1/notifications", bad_cases[i][0], bad_cases[i][1], bad_cases[i][2]);
    expect_error("/api/v1/announcements", bad_cases[i][0], bad_cases[i][1], bad_cases[i][2]);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid",
                               uid), before);
}

/* data over 4 KB once every value is a string: refused when push may be sent, taken when
 * the channels leave push out. */
static void test_data_size(void **state) {
  (void)state;
  char big[4200], extra[4400];
  memset(big, 'x', 4093);
  big[4093] = '\0';
  snprintf(extra, sizeof(extra), "\"data\":{\"note\":\"%s\"}", big); /* 4 + 4093 bytes */
  expect_error("/api/v1/notifications", extra, "data", "push_data_too_large");
  snprintf(extra, sizeof(extra), "\"channels\":[\"push\"],\"data\":{\"note\":\"%s\"}", big);
  expect_error("/api/v1/notifications", extra, "data", "push_data_too_large");
  /* a number counts as its text: 4 + 4087 + 1 + 5 ("n", "12345") */
  big[4087] = '\0';
  snprintf(extra, sizeof(extra), "\"data\":{\"note\":\"%s\",\"n\":12345}", big);
  expect_error("/api/v1/notifications", extra, "data", "push_data_too_large");
  big[4086] = '\0'; /* 4096 bytes: taken */
  json_t *n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                      "\"data\":{\"note\":\"%s\",\"n\":12345}}", uid, big);
  json_decref(n);
  memset(big, 'x', 4100);
  big[4100] = '\0';
  n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
              "\"channels\":[\"email\",\"in_app\"],\"data\":{\"note\":\"%s\","
              "\"from\":\"x\"}}", uid, big);
  json_decref(n);
}

static void test_options_are_stored(void **state) {
  (void)state;
  json_t *n = ns_send(&srv, admin,
                      "{\"user_id\":\"%s\",\"category\":\"orders\",\"body\":\"Shipped\","
                      "\"data\":{\"order\":\"A-1\"},\"push\":{\"silent\":false,\"priority\":"
                      "\"high\",\"ttl\":600,\"collapse_key\":\"orders\",\"badge\":false,"
                      "\"android\":{\"notification\":{\"channel_id\":\"shop\"}},"
                      "\"apns\":{\"headers\":{\"apns-topic\":\"com.example\"}}}}", uid);
  char *push = th_sql_text("SELECT push->>'ttl' || '/' || (push->>'collapse_key') || '/' ||"
                           " (push->'android'->'notification'->>'channel_id') || '/' ||"
                           " (push->'apns'->'headers'->>'apns-topic')"
                           " FROM notifications WHERE id = $1::uuid", th_str(n, "id"));
  assert_string_equal(push, "600/orders/shop/com.example");
  free(push);
  json_decref(n);
  n = ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\"}", uid);
  char *none = th_sql_text("SELECT push::text FROM notifications WHERE id = $1::uuid",
                           th_str(n, "id"));
  assert_null(none);
  json_decref(n);
  /* an announcement keeps them for its fan-out */
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/announcements",
          "{\"target\":\"admins\",\"body\":\"Maintenance\",\"push\":{\"silent\":true,\"ttl\":0}}", NULL, &r);
  assert_int_equal(r.status, 202);
  char *stored = th_sql_text("SELECT request->'push'->>'silent' FROM broadcasts"
                             " WHERE id = $1::uuid", th_str(r.json, "id"));
  assert_string_equal(stored, "true");
  free(stored);
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bad_push_options),
    cmocka_unit_test(test_data_size),
    cmocka_unit_test(test_options_are_stored),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

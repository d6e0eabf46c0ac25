/* Integration: quiet hours in the user's IANA zone. Non-critical e-mail, SMS and push due
 * inside the window wait for its end; the window may cross midnight and the end is found
 * in local time, so a DST change that night moves it by an hour in UTC. Critical and
 * in-app are never delayed. The DST dates are computed here from the calendar rules
 * (US: 2nd Sunday of March, 1st of November; EU: last Sundays of March and October). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "notif_support.h"
#include "notifications/notification_repo.h"

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

/* A user with a phone, a device, zone, and quiet hours start-end (zone from the profile). */
static char *quiet_user(const char *zone, const char *start, const char *end, char id[37]) {
  char *token = th_user(&srv, "quiet", "+14155550105", id);
  char body[256], device[80];
  struct th_response r;
  snprintf(body, sizeof(body), "{\"timezone\":\"%s\"}", zone);
  th_call(&srv, token, "PATCH", "/api/v1/users/me", body, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  snprintf(body, sizeof(body), "{\"quiet_hours\":{\"enabled\":true,\"start\":\"%s\",\"end\":"
           "\"%s\"}}", start, end);
  th_call(&srv, token, "PUT", "/api/v1/users/me/preferences", body, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  snprintf(device, sizeof(device), "quiet-device-%s", id);
  ns_device(&srv, token, device);
  return token;
}

/* Sends to uid at send_at (NULL: now) with priority; returns the response (decref). */
static json_t *send_at(const char *uid, const char *at, const char *priority) {
  if (at == NULL) {
    return ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                                "\"priority\":\"%s\"}", uid, priority);
  }
  return ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"c\",\"body\":\"b\","
                              "\"priority\":\"%s\",\"send_at\":\"%s\"}", uid, priority, at);
}

/* Every delayable channel is due at want (and held by quiet hours when held), in the
 * response, in PostgreSQL and in the delayed sets. */
static void expect_due(const json_t *n, const char *want, bool held) {
  const char *channels[] = {"email", "sms", "push"};
  for (int i = 0; i < 3; i++) {
    const json_t *d = ns_delivery(n, channels[i]);
    th_assert_json_subset("{\"status\":\"scheduled\"}", d);
    assert_string_equal(th_str(d, "due_at"), want);
    if (held) {
      assert_string_equal(th_str(d, "reason"), "quiet_hours");
    } else {
      assert_null(json_object_get(d, "reason"));
    }
    char key[64];
    snprintf(key, sizeof(key), "herald:delayed:{%s}", channels[i]);
    assert_int_equal((long)th_zscore(key, th_str(d, "id")), ns_epoch(want));
    char *row = th_sql_text("SELECT to_char(due_at AT TIME ZONE 'UTC',"
                            " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM deliveries"
                            " WHERE id = $1::uuid", th_str(d, "id"));
    assert_string_equal(row, want);
    free(row);
  }
}

/* Midnight UTC of year-month-day. */
static time_t day(int year, int month, int mday) {
  struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = mday};
  return timegm(&tm);
}

/* The nth (1-based; 0 = last) Sunday of a month, at midnight UTC. */
static time_t sunday(int year, int month, int nth) {
  if (nth == 0) {
    time_t t = day(year, month + 1 > 12 ? 1 : month + 1, 1) - 86400;
    while (gmtime(&t)->tm_wday != 0) {
      t -= 86400;
    }
    return t;
  }
  time_t t = day(year, month, 1);
  while (gmtime(&t)->tm_wday != 0) {
    t += 86400;
  }
  return t + (time_t)(nth - 1) * 7 * 86400;
}

/* The first such Sunday at least two days from now (send_at must lie in the next year). */
static time_t next_sunday(int month, int nth) {
  time_t now = time(NULL);
  int year = gmtime(&now)->tm_year + 1900;
  time_t t = sunday(year, month, nth);
  return t > now + 2 * 86400 ? t : sunday(year + 1, month, nth);
}

static void test_across_midnight(void **state) {
  (void)state;
  char uid[37], at[32], want[32];
  free(quiet_user("Asia/Tokyo", "22:00", "07:00", uid)); /* UTC+9, no DST */
  time_t d = next_sunday(6, 1);
  /* 23:00 JST: held until 07:00 JST the next day = 22:00Z the same UTC day. */
  th_iso(d + 14 * 3600, at);
  th_iso(d + 22 * 3600, want);
  json_t *n = send_at(uid, at, "normal");
  expect_due(n, want, true);
  /* In-app is never delayed. */
  const json_t *in_app = ns_delivery(n, "in_app");
  assert_string_equal(th_str(in_app, "due_at"), at);
  assert_null(json_object_get(in_app, "reason"));
  json_decref(n);
  /* 02:30 JST (after midnight): held until 07:00 the same local day. */
  th_iso(d + 17 * 3600 + 1800, at);
  n = send_at(uid, at, "high");
  expect_due(n, want, true);
  json_decref(n);
  /* 12:00 JST: outside the window, due at send_at. */
  th_iso(d + 3 * 3600, at);
  n = send_at(uid, at, "low");
  expect_due(n, at, false);
  json_decref(n);
  /* 07:00 JST exactly: the window has ended. */
  th_iso(d + 22 * 3600, at);
  n = send_at(uid, at, "normal");
  expect_due(n, at, false);
  json_decref(n);
  /* Critical ignores quiet hours. */
  th_iso(d + 14 * 3600, at);
  n = send_at(uid, at, "critical");
  expect_due(n, at, false);
  json_decref(n);
}

static void test_us_fall_back(void **state) {
  (void)state;
  char uid[37], at[32], want[32];
  free(quiet_user("America/New_York", "22:00", "07:00", uid));
  time_t s = next_sunday(11, 1);
  /* Saturday 22:30 EDT (UTC-4) = Sunday 02:30Z; the clocks go back at 02:00 EDT; the
   * window ends at 07:00 EST (UTC-5) = 12:00Z, 9.5 hours later, not 8.5. */
  th_iso(s + 2 * 3600 + 1800, at);
  th_iso(s + 12 * 3600, want);
  json_t *n = send_at(uid, at, "normal");
  expect_due(n, want, true);
  json_decref(n);
}

static void test_us_spring_forward(void **state) {
  (void)state;
  char uid[37], at[32], want[32];
  free(quiet_user("America/New_York", "22:00", "07:00", uid));
  time_t s = next_sunday(3, 2);
  /* Saturday 22:30 EST (UTC-5) = Sunday 03:30Z; the window ends at 07:00 EDT (UTC-4) =
   * 11:00Z, 7.5 hours later, not 8.5. */
  th_iso(s + 3 * 3600 + 1800, at);
  th_iso(s + 11 * 3600, want);
  json_t *n = send_at(uid, at, "high");
  expect_due(n, want, true);
  json_decref(n);
}

static void test_europe_fall_back(void **state) {
  (void)state;
  char uid[37], at[32], want[32];
  char *token = quiet_user("UTC", "22:00", "07:00", uid);
  /* The zone of the quiet hours may differ from the profile's. */
  struct th_response r;
  th_call(&srv, token, "PUT", "/api/v1/users/me/preferences",
          "{\"quiet_hours\":{\"enabled\":true,\"start\":\"22:00\",\"end\":\"07:00\","
          "\"timezone\":\"Europe/Paris\"}}", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  time_t s = next_sunday(10, 0);
  /* Saturday 22:30 CEST (UTC+2) = Saturday 20:30Z; ends Sunday 07:00 CET (UTC+1) = 06:00Z. */
  th_iso(s - 3 * 3600 - 1800, at);
  th_iso(s + 6 * 3600, want);
  json_t *n = send_at(uid, at, "normal");
  expect_due(n, want, true);
  json_decref(n);
  free(token);
}

static void test_now_inside_and_outside(void **state) {
  (void)state;
  char uid[37], start[8], end[8], want[32];
  time_t now = time(NULL);
  int minute = (int)((now / 60) % 1440);
  int s = (minute + 1440 - 60) % 1440, e = (minute + 60) % 1440;
  snprintf(start, sizeof(start), "%02d:%02d", s / 60, s % 60);
  snprintf(end, sizeof(end), "%02d:%02d", e / 60, e % 60);
  free(quiet_user("UTC", start, end, uid));
  json_t *n = send_at(uid, NULL, "normal");
  const json_t *email = ns_delivery(n, "email");
  th_assert_json_subset("{\"status\":\"scheduled\",\"reason\":\"quiet_hours\"}", email);
  long due = ns_epoch(th_str(email, "due_at"));
  long expected = (long)(now / 60 * 60) + 3600;
  assert_true(due == expected || due == expected + 60); /* the minute may turn meanwhile */
  th_iso((time_t)due, want);
  th_assert_json_subset("{\"status\":\"sent\"}", ns_delivery(n, "in_app"));
  assert_true(th_zscore("herald:delayed:{email}", th_str(email, "id")) > (double)now);
  json_decref(n);
  /* A window later today: sent now. */
  s = (minute + 120) % 1440;
  e = (minute + 180) % 1440;
  snprintf(start, sizeof(start), "%02d:%02d", s / 60, s % 60);
  snprintf(end, sizeof(end), "%02d:%02d", e / 60, e % 60);
  free(quiet_user("UTC", start, end, uid));
  n = send_at(uid, NULL, "normal");
  th_assert_json_subset("{\"status\":\"queued\"}", ns_delivery(n, "email"));
  assert_true(th_list_has("herald:q:{email}", th_str(ns_delivery(n, "email"), "id")));
  json_decref(n);
}

/* The end of a quiet-hours window is converted to UTC by PostgreSQL once per thread and
 * (local time, zone): the second conversion is answered without the connection (here one that
 * could not connect), another key still needs it. Spring forward in Paris: 02:30 does not
 * exist and PostgreSQL reads it as 03:30 CEST, 01:30 UTC. */
static void test_window_end_converted_once(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char a[32], b[32], other[32];
  assert_int_equal(h_notif_repo_local_to_utc(c, "2027-03-28 02:30:00", "Europe/Paris", a), H_OK);
  assert_string_equal(a, "2027-03-28T01:30:00Z");
  PQfinish(c);
  PGconn *dead = PQconnectdb("host=127.0.0.1 port=1 dbname=none connect_timeout=1");
  assert_int_not_equal(PQstatus(dead), CONNECTION_OK);
  assert_int_equal(h_notif_repo_local_to_utc(dead, "2027-03-28 02:30:00", "Europe/Paris", b),
                   H_OK);
  assert_string_equal(b, a);
  assert_int_not_equal(
      h_notif_repo_local_to_utc(dead, "2027-03-28 02:30:00", "America/New_York", other), H_OK);
  PQfinish(dead);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_across_midnight),
    cmocka_unit_test(test_us_fall_back),
    cmocka_unit_test(test_us_spring_forward),
    cmocka_unit_test(test_europe_fall_back),
    cmocka_unit_test(test_now_inside_and_outside),
    cmocka_unit_test(test_window_end_converted_once),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: security alerts (category `security`) over real HTTP: a sign-in from a new
 * device or network, a password change, a refresh token used twice and an API key created
 * each notify the account through the ordinary pipeline; preferences choose the channels
 * but cannot silence them all; quiet hours never hold them back; no alert shows a secret;
 * callers cannot send the category themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"

static struct th_server srv;
static char *admin;
static char admin_id[37];

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, admin_id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

/* Signs in as email from agent (NULL: no User-Agent); returns the status and, on 200, the
 * access and refresh tokens (caller frees; may be NULL). */
static long login(const char *email, const char *agent, char **access, char **refresh) {
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"%s\"}", email, TH_PASSWORD);
  char ua[128];
  snprintf(ua, sizeof(ua), "User-Agent: %s", agent != NULL ? agent : "");
  struct th_response r;
  th_call(&srv, NULL, "POST", "/api/v1/auth/login", body, agent != NULL ? ua : NULL, &r);
  if (r.status == 200 && access != NULL) {
    *access = h_strdup(th_str(r.json, "access_token"));
  }
  if (r.status == 200 && refresh != NULL) {
    *refresh = h_strdup(th_str(r.json, "refresh_token"));
  }
  long status = r.status;
  th_response_free(&r);
  free(body);
  return status;
}

/* The events of the user's security alerts, oldest first, comma separated ("" for none;
 * caller frees). */
static char *events_of(const char *uid) {
  char *s = th_sql_text("SELECT COALESCE(string_agg(data->>'event', ',' ORDER BY created_at,"
                        " id), '') FROM notifications WHERE user_id = $1::uuid"
                        " AND category = 'security'", uid);
  return s;
}

/* channel:status of the deliveries of the user's newest security alert (caller frees). */
static char *last_deliveries(const char *uid) {
  return th_sql_text("SELECT string_agg(d.channel || ':' || d.status, ',' ORDER BY d.channel)"
                     " FROM deliveries d WHERE d.notification_id = (SELECT id FROM notifications"
                     " WHERE user_id = $1::uuid AND category = 'security'"
                     " ORDER BY created_at DESC, id DESC LIMIT 1)", uid);
}

static void test_new_sign_in(void **state) {
  (void)state;
  char uid[37];
  char *email = th_unique_email("alert");
  free(th_register(&srv, email, uid, NULL)); /* the account's first sign-in: no alert */
  char *ev = events_of(uid);
  assert_string_equal(ev, "");
  free(ev);
  assert_int_equal(login(email, NULL, NULL, NULL), 200); /* same client and network */
  ev = events_of(uid);
  assert_string_equal(ev, "");
  free(ev);
  assert_int_equal(login(email, "Phone/2.0 (Android 14)", NULL, NULL), 200);
  ev = events_of(uid);
  assert_string_equal(ev, "new_sign_in");
  free(ev);
  assert_int_equal(login(email, "Phone/2.0 (Android 14)", NULL, NULL), 200); /* known now */
  ev = events_of(uid);
  assert_string_equal(ev, "new_sign_in");
  free(ev);
  char *alert = th_sql_text("SELECT priority || '|' || title || '|' || body || '|' ||"
                            " (data->>'client') FROM notifications WHERE user_id = $1::uuid"
                            " AND category = 'security'", uid);
  assert_non_null(strstr(alert, "critical|New sign-in to your account|"));
  assert_non_null(strstr(alert, "Phone/2.0 (Android 14)"));
  assert_non_null(strstr(alert, "127.0.0.1"));
  assert_null(strstr(alert, TH_PASSWORD));
  free(alert);
  char *d = last_deliveries(uid);
  assert_string_equal(d, "email:queued,in_app:sent,push:skipped,sms:skipped");
  free(d);
  /* the user's feed shows it */
  char *access = NULL;
  assert_int_equal(login(email, "Phone/2.0 (Android 14)", &access, NULL), 200);
  struct th_response r;
  th_call(&srv, access, "GET", "/api/v1/notifications?category=security", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_response_free(&r);
  free(access);
  free(email);
}

static void test_password_change_and_token_reuse(void **state) {
  (void)state;
  char uid[37];
  char *email = th_unique_email("alert");
  char *refresh = NULL;
  char *access = th_register(&srv, email, uid, &refresh);
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", refresh);
  struct th_response r;
  th_call(&srv, NULL, "POST", "/api/v1/auth/refresh", body, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_call(&srv, NULL, "POST", "/api/v1/auth/refresh", body, NULL, &r); /* used twice */
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  char *ev = events_of(uid);
  assert_string_equal(ev, "refresh_token_reused");
  free(ev);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE category = 'security'"
                               " AND strpos(body || data::text, $1) > 0", refresh), 0);
  const char *new_password = "another-long-passphrase-42";
  char *pw = h_sprintf("{\"current_password\":\"%s\",\"new_password\":\"%s\"}", TH_PASSWORD,
                       new_password);
  th_call(&srv, access, "POST", "/api/v1/users/me/password", pw, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  ev = events_of(uid);
  assert_string_equal(ev, "refresh_token_reused,password_changed");
  free(ev);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE category = 'security'"
                               " AND strpos(body || data::text, $1) > 0", new_password), 0);
  free(pw);
  free(body);
  free(refresh);
  free(access);
  free(email);
}

static void test_api_key_created(void **state) {
  (void)state;
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"billing-sync\"}", NULL,
          &r);
  assert_int_equal(r.status, 201);
  const char *secret = th_str(r.json, "secret");
  assert_non_null(secret);
  char *body = th_sql_text("SELECT body FROM notifications WHERE user_id = $1::uuid AND"
                           " data->>'event' = 'api_key_created' ORDER BY created_at DESC"
                           " LIMIT 1", admin_id);
  assert_non_null(strstr(body, "\"billing-sync\""));
  assert_null(strstr(body, secret));
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE category = 'security'"
                               " AND strpos(body || data::text, $1) > 0", secret), 0);
  free(body);
  th_response_free(&r);
}

/* Preferences choose the channels; turning every one off keeps in-app and e-mail; quiet
 * hours covering the whole day do not delay them. */
static void test_preferences_and_quiet_hours(void **state) {
  (void)state;
  char uid[37];
  char *email = th_unique_email("alert");
  char *access = th_register(&srv, email, uid, NULL);
  struct th_response r;
  th_call(&srv, access, "PUT", "/api/v1/users/me/preferences",
          "{\"categories\":{\"security\":{\"email\":false}},\"quiet_hours\":{\"enabled\":true,"
          "\"start\":\"00:00\",\"end\":\"23:59\",\"timezone\":\"UTC\"}}", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  assert_int_equal(login(email, "Laptop/1", NULL, NULL), 200);
  char *d = last_deliveries(uid);
  assert_string_equal(d, "email:skipped,in_app:sent,push:skipped,sms:skipped");
  free(d);
  th_call(&srv, access, "PUT", "/api/v1/users/me/preferences",
          "{\"channels\":{\"email\":false,\"in_app\":false,\"sms\":false,\"push\":false}}", NULL,
          &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  assert_int_equal(login(email, "Tablet/1", NULL, NULL), 200);
  d = last_deliveries(uid);
  assert_string_equal(d, "email:queued,in_app:sent,push:skipped,sms:skipped");
  free(d);
  /* e-mail due now despite the quiet hours (critical) */
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE n.user_id = $1::uuid AND"
                               " n.category = 'security' AND d.channel = 'email' AND"
                               " d.status = 'queued' AND d.due_at <= now()", uid), 1);
  free(access);
  free(email);
}

static void test_category_reserved(void **state) {
  (void)state;
  char uid[37];
  free(th_user(&srv, "alert", NULL, uid));
  char *body = h_sprintf("{\"user_id\":\"%s\",\"category\":\"security\",\"body\":\"Fake\"}", uid);
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  th_assert_field_error(&r, "category", "reserved_category");
  th_response_free(&r);
  free(body);
  th_call(&srv, admin, "POST", "/api/v1/announcements",
          "{\"target\":\"admins\",\"category\":\"security\",\"body\":\"Fake\"}", NULL, &r);
  th_assert_field_error(&r, "category", "reserved_category");
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_sign_in),
    cmocka_unit_test(test_password_change_and_token_reuse),
    cmocka_unit_test(test_api_key_created),
    cmocka_unit_test(test_preferences_and_quiet_hours),
    cmocka_unit_test(test_category_reserved),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

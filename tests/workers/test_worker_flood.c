/* Worker: protecting users from floods (core/flood.h) through the API (in-process) and
 * herald-email against the fake SMTP server: a digest window turns five sends into one
 * e-mail listing all five (in-app copies stay individual, critical and exempt categories
 * do not wait), the hourly throttle (the excess waits for the next digest or ends
 * throttled) and the daily cap (the excess ends capped, the admins are told once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/cap_alert.h"
#include "channels/digest_service.h"
#include "core/alloc.h"
#include "harness.h"
#include "wtest.h"

static struct wt_proc smtp;
static struct th_server api;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&smtp, "fake_smtp.py", NULL);
  setenv("HERALD_DIGEST_WINDOWS", "comments=1,likes=1", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1); /* the test runs the sweeper's passes itself */
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from 127.0.0.1 */
  th_start(&api);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&api);
  wt_end(db, &smtp);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &smtp);
  return 0;
}

/* herald-email --once against the fake, with extra settings (may be NULL). */
static int run_email(const char *extra1, const char *extra2) {
  char port[64];
  snprintf(port, sizeof(port), "HERALD_SMTP_PORT=%d", smtp.port);
  const char *env[] = {"HERALD_EMAIL_PROVIDER=smtp", "HERALD_SMTP_HOST=127.0.0.1", port,
                       "HERALD_LOG_LEVEL=info", "HERALD_WORKER_BATCH=1",
                       "HERALD_DIGEST_WINDOWS=comments=1,likes=1", extra1, extra2, NULL};
  if (extra1 == NULL) {
    env[6] = NULL;
  } else if (extra2 == NULL) {
    env[7] = NULL;
  }
  const char *args[] = {"--once", NULL};
  return wt_run_shown(HERALD_EMAIL_BIN, args, env, 60, true);
}

/* Sends one notification to user; returns the status of its e-mail delivery ("" when
 * none) and fills id with it. */
static const char *send(const char *admin, const char *user_id, const char *category,
                        const char *priority, const char *title, char id[37]) {
  static char status[32];
  char *body = h_sprintf("{\"user_id\":\"%s\",\"category\":\"%s\",\"priority\":\"%s\","
                         "\"title\":\"%s\",\"body\":\"Body of %s\"}",
                         user_id, category, priority, title, title);
  struct th_response r;
  th_call(&api, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  free(body);
  assert_int_equal(r.status, 202);
  status[0] = id[0] = '\0';
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(r.json, "deliveries"), i, d) {
    if (strcmp(th_str(d, "channel"), "email") == 0) {
      snprintf(status, sizeof(status), "%s", th_str(d, "status"));
      snprintf(id, 37, "%s", th_str(d, "id"));
    }
  }
  th_response_free(&r);
  return status;
}

/* One pass of the sweeper's digests; returns how many went out (anyone's). */
static long digests_now(void) {
  long sent = -1;
  PGconn *conn = wt_db();
  assert_int_equal(h_digest_run(conn, wt_redis(), &api.app.flood, &sent), H_OK);
  PQfinish(conn);
  return sent;
}

static void test_digest_five_sends_one_email(void **state) {
  (void)state;
  char uid[37], aid[37], ids[5][37], id[37];
  char *token = th_user(&api, "digest", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  for (int i = 0; i < 5; i++) {
    char title[32];
    snprintf(title, sizeof(title), "Comment %d", i + 1);
    assert_string_equal(send(admin, uid, "comments", "normal", title, ids[i]), "digest");
  }
  /* critical and exempt categories (account; security is Herald's own) never wait */
  assert_string_equal(send(admin, uid, "comments", "critical", "Urgent", id), "queued");
  assert_string_equal(send(admin, uid, "account", "normal", "New sign-in", id), "queued");
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE d.user_id = $1::uuid AND"
                               " d.channel = 'in_app' AND d.status = 'sent' AND"
                               " n.category = 'comments'", uid), 6);
  /* the window (1 s) is still open: nothing of this user's goes yet */
  digests_now();
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid AND"
                               " status = 'digest'", uid), 5);
  double until = wt_now() + 10;
  while (th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid AND"
                     " status = 'digested'", uid) < 5 && wt_now() < until) {
    wt_sleep_ms(300);
    digests_now();
  }
  char *digest = th_sql_text("SELECT DISTINCT digest_delivery_id::text FROM deliveries"
                             " WHERE user_id = $1::uuid AND status = 'digested'", uid);
  assert_non_null(digest);
  char want[64];
  snprintf(want, sizeof(want), "digested/%s", digest);
  for (int i = 0; i < 5; i++) {
    assert_string_equal(wt_text(db, "SELECT status || '/' || digest_delivery_id FROM deliveries"
                                    " WHERE id = $1", ids[i]),
                        want);
  }
  assert_string_equal(wt_text(db, "SELECT n.title || '/' || d.status || '/' || n.in_app FROM"
                                  " deliveries d JOIN notifications n ON n.id = d.notification_id"
                                  " WHERE d.id = $1", digest),
                      "5 new comments notifications/queued/false");
  assert_int_equal(run_email(NULL, NULL), 0);
  json_t *messages = wt_fake_messages(smtp.control_port);
  char *email = th_sql_text("SELECT email FROM users WHERE id = $1::uuid", uid);
  int to_user = 0;
  const char *data = NULL;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    if (strcmp(json_string_value(json_array_get(json_object_get(m, "rcpt"), 0)), email) == 0) {
      to_user++;
      if (strcmp(th_str(m, "delivery_id"), digest) == 0) {
        data = th_str(m, "data");
      }
    }
  }
  /* the digest, the critical one, and the account e-mails (sign-up's and the exempt one) */
  assert_int_equal(to_user, 2 + th_sql_long("SELECT count(*) FROM deliveries d JOIN"
                                            " notifications n ON n.id = d.notification_id WHERE"
                                            " d.user_id = $1::uuid AND d.channel = 'email' AND"
                                            " n.category = 'account'", uid));
  assert_non_null(data);
  for (int k = 1; k <= 5; k++) {
    char line[48];
    snprintf(line, sizeof(line), "- Comment %d: Body of Comment %d", k, k);
    if (strstr(data, line) == NULL) {
      fail_msg("the digest lacks '%s': %s", line, data);
    }
  }
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", digest), "sent");
  json_decref(messages);
  free(email);
  free(digest);
  free(token);
  free(admin);
}

static void test_throttle(void **state) {
  (void)state;
  char uid[37], aid[37], ids[4][37], likes[37];
  char *token = th_user(&api, "throttle", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  for (int i = 0; i < 4; i++) {
    assert_string_equal(send(admin, uid, "news", "normal", "News", ids[i]), "queued");
  }
  assert_int_equal(run_email("HERALD_THROTTLE_PER_HOUR=email=2", NULL), 0);
  /* (the sign-up e-mail of category account is exempt: neither counted nor held) */
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE d.user_id = $1::uuid AND"
                               " d.channel = 'email' AND d.status = 'sent' AND"
                               " n.category = 'news'", uid), 2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid AND"
                               " channel = 'email' AND status = 'throttled' AND reason ="
                               " 'throttled'", uid), 2);
  /* a category with a digest: the excess waits for the next one instead */
  assert_string_equal(send(admin, uid, "likes", "critical", "Like", likes), "queued");
  assert_int_equal(run_email("HERALD_THROTTLE_PER_HOUR=email=2", NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", likes), "sent");
  assert_int_equal(th_sql_long("UPDATE notifications SET priority = 'normal' WHERE user_id ="
                               " $1::uuid AND category = 'likes' RETURNING 1", uid), 1);
  assert_int_equal(th_sql_long("UPDATE deliveries SET status = 'queued', attempts = 0 WHERE"
                               " user_id = $1::uuid AND channel = 'email' AND notification_id ="
                               " (SELECT id FROM notifications WHERE user_id = $1::uuid AND"
                               " category = 'likes') RETURNING 1", uid), 1);
  wt_push("email", (char *[]){likes, NULL});
  assert_int_equal(run_email("HERALD_THROTTLE_PER_HOUR=email=2", NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              likes), "digest/throttled");
  /* the next digest takes it (a window of one: sent as it was) */
  wt_sleep_ms(1100);
  digests_now();
  assert_string_equal(wt_text(db, "SELECT d.status || '/' || n.title FROM deliveries d JOIN"
                                  " notifications n ON n.id = d.notification_id WHERE d.id ="
                                  " (SELECT digest_delivery_id FROM deliveries WHERE id = $1)",
                              likes), "queued/Like");
  free(token);
  free(admin);
}

static void test_daily_cap(void **state) {
  (void)state;
  char uid[37], aid[37], ids[3][37];
  char *token = th_user(&api, "cap", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  th_sql_long("WITH d AS (DELETE FROM cap_alerts RETURNING 1) SELECT count(*) FROM d", NULL);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(send(admin, uid, "news", "normal", "Capped?", ids[i]), "queued");
  }
  assert_int_equal(run_email("HERALD_DAILY_CAPS=email=2", NULL), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE user_id = $1::uuid AND"
                               " channel = 'email' AND status = 'capped' AND reason ="
                               " 'daily_cap'", uid), 1);
  long alerted = -1;
  PGconn *conn = wt_db();
  assert_int_equal(h_cap_alert_run(conn, wt_redis(), &alerted), H_OK);
  assert_int_equal(alerted, 1);
  assert_int_equal(h_cap_alert_run(conn, wt_redis(), &alerted), H_OK);
  assert_int_equal(alerted, 0); /* once a day */
  PQfinish(conn);
  assert_true(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                          " n.id = d.notification_id WHERE d.user_id = $1::uuid AND"
                          " n.template_key = 'daily_cap_reached'", aid) == 1);
  free(token);
  free(admin);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_digest_five_sends_one_email, before),
    cmocka_unit_test_setup(test_throttle, before),
    cmocka_unit_test_setup(test_daily_cap, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

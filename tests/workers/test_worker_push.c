/* Worker: herald-push against the fake FCM HTTP v1 API and its OAuth2 token endpoint
 * (tests/fakes/fake_fcm.py, which checks the RS256 assertion with openssl): every
 * active device gets the message, the access token is fetched once and refreshed on
 * 401, UNREGISTERED and invalid tokens deactivate their device, failures retry. The
 * message carries the notification's data as strings and its push options (silent,
 * priority, ttl, collapse key, the unread count as badge, Android and APNs overrides),
 * and the fake refuses what FCM would refuse. A thread sends a batch a window of jobs at a
 * time, every device's request of the window in flight together (--in-flight), each job
 * with its own outcome. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "wtest.h"

static struct wt_proc fake;
static PGconn *db;
static struct wt_fcm fcm_env;

static int setup(void **state) {
  (void)state;
  db = wt_begin(NULL, NULL, NULL);
  wt_fcm_start(&fake, &fcm_env);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, &fake);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("push", &fake);
  return 0;
}

static int run_once(const char *creds_override) {
  const char *env[] = {"HERALD_PUSH_PROVIDER=fcm", fcm_env.base_var,
                       creds_override != NULL ? creds_override : fcm_env.creds_var,
                       "HERALD_RETRY_BASE_MS=3000", "HERALD_PROVIDER_TIMEOUT_MS=2000",
                       "HERALD_LOG_LEVEL=info", NULL};
  const char *args[] = {"--once", "--concurrency", "2", NULL};
  return wt_run_shown(HERALD_PUSH_BIN, args, env, 60, creds_override == NULL);
}

/* herald-push --once on one thread with --in-flight in_flight (NULL: the default). */
static int run_in_flight(const char *in_flight) {
  const char *env[] = {"HERALD_PUSH_PROVIDER=fcm", fcm_env.base_var, fcm_env.creds_var,
                       "HERALD_RETRY_BASE_MS=3000", "HERALD_PROVIDER_TIMEOUT_MS=5000",
                       "HERALD_LOG_LEVEL=info", NULL};
  const char *args[] = {"--once", "--concurrency", "1", in_flight != NULL ? "--in-flight" : NULL,
                        in_flight, NULL};
  return wt_run_shown(HERALD_PUSH_BIN, args, env, 60, true);
}

/* A template's push part goes out as it was rendered: its title and body, not the in-app
 * ones stored beside them (before, the worker sent the in-app ones). */
static void test_template_push_part(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 1, .devices = 1, .title = "In-app title",
                      .body = "In-app body",
                      .rendered = "{\"in_app\":{\"title\":\"In-app title\","
                                  "\"body\":\"In-app body\"},"
                                  "\"push\":{\"title\":\"Paid\",\"body\":\"5 EUR\"}}"};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("push", ids);
  assert_int_equal(run_once(NULL), 0);
  json_t *messages = wt_fake_messages(fake.port);
  assert_int_equal(json_array_size(messages), 1);
  json_t *n = json_object_get(json_object_get(json_array_get(messages, 0), "message"),
                              "notification");
  assert_string_equal(json_string_value(json_object_get(n, "title")), "Paid");
  assert_string_equal(json_string_value(json_object_get(n, "body")), "5 EUR");
  json_decref(messages);
  wt_free_ids(ids);
}

static void test_every_device_one_token(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 3, .devices = 2, .title = "Ping", .body = "Pong"};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("push", ids);
  assert_int_equal(run_once(NULL), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND provider = 'fcm' AND"
                                 " provider_message_id LIKE 'projects/herald-test/messages/%'",
                             ids), 3);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND meta->>'sent' = '2'", ids), 3);
  assert_int_equal(wt_fake_stat(fake.port, "token_requests"), 1); /* cached across threads and jobs */
  json_t *counts = wt_fake_counts(fake.port);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), 2);
  }
  json_decref(counts);
  json_t *messages = wt_fake_messages(fake.port);
  json_t *m = json_object_get(json_array_get(messages, 0), "message");
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "notification"),
                                                        "title")), "Ping");
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "android"),
                                                        "priority")), "NORMAL");
  json_decref(messages);
  wt_free_ids(ids);
}

static void test_invalid_tokens_deactivate(void **state) {
  (void)state;
  struct wt_seed two = {.channel = "push", .n = 1, .devices = 2};
  struct wt_seed bad = {.channel = "push", .n = 1, .devices = 1, .device_prefix = "invalid-"};
  struct wt_seed none = {.channel = "push", .n = 1, .devices = 0};
  char **a = wt_seed_jobs(db, &two), **b = wt_seed_jobs(db, &bad), **c = wt_seed_jobs(db, &none);
  char gone[128], body[200], url[96];
  snprintf(gone, sizeof(gone), "%s", wt_text(db, "SELECT min(token) FROM devices WHERE user_id ="
                                          " (SELECT user_id FROM deliveries WHERE id = $1)",
                                          a[0]));
  snprintf(body, sizeof(body), "{\"token\":\"%s\"}", gone);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/unregister", fake.port);
  assert_int_equal(th_http("POST", url, body, NULL), 200);
  wt_push("push", a);
  wt_push("push", b);
  wt_push("push", c);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", a[0]), "sent");
  assert_string_equal(wt_text(db, "SELECT active::text FROM devices WHERE token = $1", gone), "false");
  assert_string_equal(wt_text(db, "SELECT count(*)::text FROM devices WHERE active AND user_id ="
                           " (SELECT user_id FROM deliveries WHERE id = $1)", a[0]), "1");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1", b[0]),
                      "failed/invalid_tokens");
  assert_string_equal(wt_text(db, "SELECT bool_or(active)::text FROM devices WHERE user_id ="
                           " (SELECT user_id FROM deliveries WHERE id = $1)", b[0]), "false");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1", c[0]),
                      "skipped/no_device");
  wt_free_ids(a);
  wt_free_ids(b);
  wt_free_ids(c);
}

static void test_token_refresh_and_failures(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 1, .devices = 1};
  char **ids = wt_seed_jobs(db, &s);
  /* FCM answers 401 once: a fresh token is fetched and the same attempt succeeds */
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"status\":401,\"count\":1}");
  wt_push("push", ids);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[0]), "sent/1");
  assert_int_equal(wt_fake_stat(fake.port, "token_requests"), 2);
  wt_free_ids(ids);

  ids = wt_seed_jobs(db, &s);
  char **quota = wt_seed_jobs(db, &s), **tok = wt_seed_jobs(db, &s);
  char rule[256];
  snprintf(rule, sizeof(rule), "{\"stage\":\"send\",\"status\":503,\"retry_after\":9,"
                               "\"match\":\"%s\"}",
           wt_text(db, "SELECT token FROM devices WHERE user_id = (SELECT user_id FROM deliveries"
                " WHERE id = $1)", ids[0]));
  wt_fake_rule(fake.port, rule);
  snprintf(rule, sizeof(rule), "{\"stage\":\"send\",\"status\":429,\"match\":\"%s\"}",
           wt_text(db, "SELECT token FROM devices WHERE user_id = (SELECT user_id FROM deliveries"
                " WHERE id = $1)", quota[0]));
  wt_fake_rule(fake.port, rule);
  wt_push("push", ids);
  wt_push("push", quota);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[0]), "scheduled");
  double wait = atof(wt_text(db, "SELECT extract(epoch FROM d.due_at - e.created_at) FROM deliveries d"
                          " JOIN delivery_events e ON e.delivery_id = d.id WHERE d.id = $1",
                          ids[0]));
  assert_true(wait >= 8.9);
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", ids[0]),
                         "HTTP 503 UNAVAILABLE"));
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", quota[0]),
                         "HTTP 429 QUOTA_EXCEEDED"));
  /* the token endpoint failing is retried too (a fresh process has no cached token) */
  wt_fake_rule(fake.port, "{\"stage\":\"token\",\"status\":500,\"count\":1}");
  wt_push("push", tok);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", tok[0]), "scheduled");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", tok[0]),
                         "token endpoint"));
  wt_free_ids(ids);
  wt_free_ids(quota);
  wt_free_ids(tok);
}

/* A thread sends a batch's requests together, --in-flight at a time: with FCM 300 ms late,
 * one thread has 4 requests at the fake at once (its count of concurrent requests), 8 jobs
 * of 2 devices are all sent, each device once; with --in-flight 1 it has one at a time. */
static void test_requests_in_flight(void **state) {
  (void)state;
  wt_fake_delay(fake.port, 300);
  struct wt_seed s = {.channel = "push", .n = 8, .devices = 2};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("push", ids);
  assert_int_equal(run_in_flight("4"), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND attempts = 1", ids), 8);
  assert_int_equal(wt_fake_stat(fake.port, "max_in_flight"), 4);
  json_t *counts = wt_fake_counts(fake.port);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), 2);
  }
  json_decref(counts);
  /* the time recorded is the job's own requests' (~300 ms), not its window's (two rounds of
   * four requests: 600 ms) */
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND (provider_attempts->0->>'duration_ms')::int"
                                 " BETWEEN 290 AND 590", ids), 8);
  wt_free_ids(ids);
  wt_fake_reset(fake.port);
  wt_fake_delay(fake.port, 300);
  ids = wt_seed_jobs(db, &s);
  wt_push("push", ids);
  assert_int_equal(run_in_flight("1"), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids), 8);
  assert_int_equal(wt_fake_stat(fake.port, "max_in_flight"), 1);
  wt_free_ids(ids);
}

/* Each job of a window gets its own outcome: sent, every device invalid, retried after a 503
 * (with its Retry-After), no device; FCM refusing the access token once in the window costs
 * one new token and no job. */
static void test_window_outcomes(void **state) {
  (void)state;
  struct wt_seed one = {.channel = "push", .n = 1, .devices = 1};
  struct wt_seed two = {.channel = "push", .n = 1, .devices = 2};
  struct wt_seed bad = {.channel = "push", .n = 1, .devices = 1, .device_prefix = "invalid-"};
  struct wt_seed none = {.channel = "push", .n = 1, .devices = 0};
  char **ok = wt_seed_jobs(db, &two), **inv = wt_seed_jobs(db, &bad),
       **busy = wt_seed_jobs(db, &one), **no = wt_seed_jobs(db, &none);
  char rule[256];
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"status\":401,\"count\":1}");
  snprintf(rule, sizeof(rule), "{\"stage\":\"send\",\"status\":503,\"retry_after\":9,"
                               "\"match\":\"%s\",\"count\":2}",
           wt_text(db, "SELECT token FROM devices WHERE user_id = (SELECT user_id FROM deliveries"
                       " WHERE id = $1)", busy[0]));
  wt_fake_rule(fake.port, rule);
  wt_fake_delay(fake.port, 50); /* the four jobs in one window of requests */
  wt_push("push", ok);
  wt_push("push", inv);
  wt_push("push", busy);
  wt_push("push", no);
  assert_int_equal(run_in_flight("8"), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                              ok[0]), "sent/1");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              inv[0]), "failed/invalid_tokens");
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", busy[0]),
                      "scheduled");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", busy[0]),
                         "HTTP 503 UNAVAILABLE"));
  double wait = atof(wt_text(db, "SELECT extract(epoch FROM d.due_at - e.created_at) FROM"
                                 " deliveries d JOIN delivery_events e ON e.delivery_id = d.id"
                                 " WHERE d.id = $1", busy[0]));
  assert_true(wait >= 8.9);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              no[0]), "skipped/no_device");
  assert_int_equal(wt_fake_stat(fake.port, "token_requests"), 2);   /* the first, and one after the 401 */
  assert_true(wt_fake_stat(fake.port, "max_in_flight") >= 2);
  json_t *counts = wt_fake_counts(fake.port);
  assert_int_equal(json_integer_value(json_object_get(counts, ok[0])), 2);
  assert_null(json_object_get(counts, busy[0]));
  json_decref(counts);
  wt_free_ids(ok);
  wt_free_ids(inv);
  wt_free_ids(busy);
  wt_free_ids(no);
}

static void test_bad_credentials(void **state) {
  (void)state;
  char var[400], path[300];
  snprintf(var, sizeof(var), "HERALD_FCM_CREDENTIALS_FILE=%s/missing.json", wt_tmpdir());
  assert_int_equal(run_once(var), 78);
  snprintf(path, sizeof(path), "%s/broken.json", wt_tmpdir());
  FILE *f = fopen(path, "w");
  fputs("{\"client_email\":\"x@y\",\"token_uri\":\"http://127.0.0.1:1/token\","
        "\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----\\n\","
        "\"project_id\":\"p\"}", f);
  fclose(f);
  snprintf(var, sizeof(var), "HERALD_FCM_CREDENTIALS_FILE=%s", path);
  assert_int_equal(run_once(var), 78);
}

static void test_file_provider(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 1, .devices = 2};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("push", ids);
  char dir[256], var[300], path[400];
  snprintf(dir, sizeof(dir), "%s/outbox-push", wt_tmpdir());
  snprintf(var, sizeof(var), "HERALD_PUSH_OUTBOX_DIR=%s", dir);
  const char *env[] = {"HERALD_PUSH_PROVIDER=file", var, NULL};
  const char *args[] = {"--once", NULL};
  assert_int_equal(wt_run(HERALD_PUSH_BIN, args, env, NULL, 30), 0);
  snprintf(path, sizeof(path), "%s/%s.json", dir, ids[0]);
  json_t *doc = json_load_file(path, 0, NULL);
  assert_non_null(doc);
  assert_int_equal(json_array_size(json_object_get(doc, "devices")), 2);
  assert_non_null(json_object_get(json_object_get(doc, "message"), "notification"));
  json_decref(doc);
  wt_free_ids(ids);
}

/* Seeds one push job (one device) whose notification has data and push (JSON texts) and
 * whose user has `unread` more unread in-app notifications; returns the delivery ids. */
static char **seed_with(const char *data, const char *push, int unread) {
  struct wt_seed s = {.channel = "push", .n = 1, .devices = 1, .title = "Order", .body = "Shipped"};
  char **ids = wt_seed_jobs(db, &s);
  char sql[1024];
  snprintf(sql, sizeof(sql),
           "WITH u AS (UPDATE notifications SET data = '%s'::jsonb, push = %s%s%s"
           " WHERE id = (SELECT notification_id FROM deliveries WHERE id = $1::uuid)"
           " RETURNING user_id), i AS (INSERT INTO notifications (user_id, category, title, body,"
           " in_app) SELECT user_id, 'news', 't', 'b', true FROM u, generate_series(1, %d))"
           " SELECT count(*)::text FROM u",
           data, push != NULL ? "'" : "", push != NULL ? push : "NULL",
           push != NULL ? "'::jsonb" : "", unread);
  assert_string_equal(wt_text(db, sql, ids[0]), "1");
  return ids;
}

/* The message the fake recorded for delivery id (new reference). */
static json_t *message_of(const char *id) {
  json_t *messages = wt_fake_messages(fake.port);
  json_t *found = NULL;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    if (strcmp(json_string_value(json_object_get(m, "delivery_id")), id) == 0) {
      found = json_incref(json_object_get(m, "message"));
    }
  }
  json_decref(messages);
  assert_non_null(found);
  return found;
}

static const char *at(const json_t *doc, const char *a, const char *b, const char *c) {
  const json_t *v = json_object_get(json_object_get(json_object_get(doc, a), b), c);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long num_at(const json_t *doc, const char *a, const char *b, const char *c,
                        const char *d) {
  const json_t *v = json_object_get(json_object_get(json_object_get(doc, a), b), c);
  v = d != NULL ? json_object_get(v, d) : v;
  return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void test_data_and_options(void **state) {
  (void)state;
  char **ids = seed_with("{\"order\":\"A-1\",\"n\":7,\"ok\":true,\"x\":{\"a\":1}}",
                         "{\"ttl\":600,\"collapse_key\":\"orders\",\"priority\":\"high\","
                         "\"android\":{\"notification\":{\"channel_id\":\"shop\"}},"
                         "\"apns\":{\"payload\":{\"aps\":{\"sound\":\"ding.caf\"}}}}", 3);
  wt_push("push", ids);
  time_t before = time(NULL);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[0]), "sent");
  json_t *m = message_of(ids[0]);
  json_t *data = json_object_get(m, "data");
  assert_string_equal(json_string_value(json_object_get(data, "order")), "A-1");
  assert_string_equal(json_string_value(json_object_get(data, "n")), "7");
  assert_string_equal(json_string_value(json_object_get(data, "ok")), "true");
  assert_string_equal(json_string_value(json_object_get(data, "x")), "{\"a\":1}");
  assert_string_equal(json_string_value(json_object_get(data, "delivery_id")), ids[0]);
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "notification"),
                                                        "title")), "Order");
  json_t *android = json_object_get(m, "android");
  assert_string_equal(json_string_value(json_object_get(android, "priority")), "HIGH");
  assert_string_equal(json_string_value(json_object_get(android, "ttl")), "600s");
  assert_string_equal(json_string_value(json_object_get(android, "collapse_key")), "orders");
  assert_string_equal(at(m, "android", "notification", "channel_id"), "shop");
  assert_int_equal(num_at(m, "android", "notification", "notification_count", NULL), 3);
  assert_string_equal(at(m, "apns", "headers", "apns-priority"), "10");
  assert_string_equal(at(m, "apns", "headers", "apns-push-type"), "alert");
  assert_string_equal(at(m, "apns", "headers", "apns-collapse-id"), "orders");
  long long expires = atoll(at(m, "apns", "headers", "apns-expiration"));
  assert_true(expires >= before + 600 && expires <= time(NULL) + 600);
  assert_int_equal(num_at(m, "apns", "payload", "aps", "badge"), 3);
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                          json_object_get(m, "apns"), "payload"), "aps"), "sound")), "ding.caf");
  json_decref(m);
  assert_int_equal(wt_fake_stat(fake.port, "bad_message"), 0);
  wt_free_ids(ids);
}

static void test_silent_and_no_badge(void **state) {
  (void)state;
  char **silent = seed_with("{\"sync\":\"inbox\"}", "{\"silent\":true}", 2);
  char **nobadge = seed_with("{}", "{\"badge\":false}", 2);
  char **plain = seed_with("{}", NULL, 0);
  wt_push("push", silent);
  wt_push("push", nobadge);
  wt_push("push", plain);
  assert_int_equal(run_once(NULL), 0);
  json_t *m = message_of(silent[0]);
  assert_null(json_object_get(m, "notification"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "data"), "sync")),
                      "inbox");
  assert_string_equal(at(m, "apns", "headers", "apns-push-type"), "background");
  assert_string_equal(at(m, "apns", "headers", "apns-priority"), "5");
  assert_int_equal(num_at(m, "apns", "payload", "aps", "content-available"), 1);
  assert_int_equal(num_at(m, "apns", "payload", "aps", "badge"), -1);
  json_decref(m);
  m = message_of(nobadge[0]);
  assert_non_null(json_object_get(m, "notification"));
  assert_int_equal(num_at(m, "apns", "payload", "aps", "badge"), -1);
  assert_int_equal(num_at(m, "android", "notification", "notification_count", NULL), -1);
  json_decref(m);
  m = message_of(plain[0]); /* defaults: the badge is the unread count, 0 here */
  assert_int_equal(num_at(m, "apns", "payload", "aps", "badge"), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "android"), "priority")),
                      "NORMAL");
  json_decref(m);
  wt_free_ids(silent);
  wt_free_ids(nobadge);
  wt_free_ids(plain);
}

/* Badges of the messages the fake recorded for delivery id; returns how many there were. */
static size_t badges_of(const char *id, long long *badges, size_t max) {
  json_t *messages = wt_fake_messages(fake.port);
  size_t n = 0;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    if (strcmp(json_string_value(json_object_get(m, "delivery_id")), id) == 0 && n < max) {
      badges[n++] = num_at(json_object_get(m, "message"), "apns", "payload", "aps", "badge");
    }
  }
  json_decref(messages);
  return n;
}

/* The badge is counted once per user (on the first of its devices' rows) and every device of
 * the user carries it: three users in one batch, with 3, 3 and 2 devices and 2, 5 and 0 unread
 * in-app notifications. */
static void test_badge_on_every_device(void **state) {
  (void)state;
  struct wt_seed three = {.channel = "push", .n = 2, .devices = 3};
  struct wt_seed two = {.channel = "push", .n = 1, .devices = 2};
  char **ids = wt_seed_jobs(db, &three);
  char **other = wt_seed_jobs(db, &two);
  const int unread[] = {2, 5};
  for (int u = 0; u < 2; u++) {
    char sql[512];
    snprintf(sql, sizeof(sql),
             "WITH i AS (INSERT INTO notifications (user_id, category, title, body, in_app)"
             " SELECT user_id, 'news', 't', 'b', true FROM deliveries, generate_series(1, %d)"
             " WHERE id = $1::uuid RETURNING 1) SELECT count(*)::text FROM i", unread[u]);
    char want[8];
    snprintf(want, sizeof(want), "%d", unread[u]);
    assert_string_equal(wt_text(db, sql, ids[u]), want);
  }
  wt_push("push", ids);
  wt_push("push", other);
  assert_int_equal(run_once(NULL), 0);
  long long badges[8];
  for (int u = 0; u < 2; u++) {
    assert_int_equal(badges_of(ids[u], badges, 8), 3);
    for (int d = 0; d < 3; d++) {
      assert_int_equal(badges[d], unread[u]);
    }
  }
  assert_int_equal(badges_of(other[0], badges, 8), 2);
  assert_int_equal(badges[0], 0);
  assert_int_equal(badges[1], 0);
  wt_free_ids(ids);
  wt_free_ids(other);
}

/* The fake refuses what FCM refuses: an override the API would not take, planted in the
 * row, fails the delivery (and the fake counts it). */
static void test_fake_checks_messages(void **state) {
  (void)state;
  char **ids = seed_with("{}", "{\"android\":{\"priority\":\"urgent\"}}", 0);
  wt_push("push", ids);
  assert_int_equal(run_once(NULL), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[0]), "failed");
  assert_int_equal(wt_fake_stat(fake.port, "bad_message"), 1);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_every_device_one_token, before),
    cmocka_unit_test_setup(test_template_push_part, before),
    cmocka_unit_test_setup(test_invalid_tokens_deactivate, before),
    cmocka_unit_test_setup(test_token_refresh_and_failures, before),
    cmocka_unit_test_setup(test_requests_in_flight, before),
    cmocka_unit_test_setup(test_window_outcomes, before),
    cmocka_unit_test_setup(test_bad_credentials, before),
    cmocka_unit_test_setup(test_file_provider, before),
    cmocka_unit_test_setup(test_data_and_options, before),
    cmocka_unit_test_setup(test_silent_and_no_badge, before),
    cmocka_unit_test_setup(test_badge_on_every_device, before),
    cmocka_unit_test_setup(test_fake_checks_messages, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

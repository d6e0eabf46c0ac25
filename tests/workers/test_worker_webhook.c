/* Worker: herald-webhook against the fake receiver (tests/fakes/fake_webhook.py), which
 * verifies every Standard Webhooks signature as a receiver does. Endpoints are registered
 * through the API (in-process, with http:// and 127.0.0.1 allowed), notifications sent
 * through it; the worker signs, retries, disables a failing endpoint and refuses
 * addresses the configuration does not allow. Only 127.0.0.1 is ever connected to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/webhook_endpoint_service.h"
#include "core/alloc.h"
#include "harness.h"
#include "wtest.h"

static struct wt_proc fake;
static struct th_server api;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&fake, "fake_webhook.py", NULL);
  setenv("HERALD_WEBHOOK_ALLOW_HTTP", "true", 1);
  setenv("HERALD_WEBHOOK_ALLOW_NETS", "127.0.0.1/32", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1); /* the test tells owners itself */
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from 127.0.0.1 */
  th_start(&api);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&api);
  wt_end(db, &fake);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("webhook", &fake);
  return 0;
}

/* The worker's environment: the fast runtime settings plus the webhook ones. */
static const char *const *worker_env(const char *nets, const char *extra) {
  static char allow[96];
  snprintf(allow, sizeof(allow), "HERALD_WEBHOOK_ALLOW_NETS=%s", nets);
  const char *more[] = {"HERALD_WEBHOOK_ALLOW_HTTP=true", allow,
                        "HERALD_WEBHOOK_DISABLE_AFTER=3", "HERALD_PROVIDER_TIMEOUT_MS=1000",
                        "HERALD_WEBHOOK_MAX_RESPONSE_BYTES=4096", extra, NULL};
  return wt_fast_env(1, more);
}

/* Runs herald-webhook --once; a retried job stays scheduled (a minute away). */
static int run_once(const char *nets) {
  const char *args[] = {"--once", NULL};
  return wt_run_shown(HERALD_WEBHOOK_BIN, args, worker_env(nets, "HERALD_RETRY_BASE_MS=60000"),
                      60, true);
}

/* Tells the fake which secrets to verify with (JSON array text). */
static void fake_secrets(const char *secrets_json) {
  char url[96], *body = h_sprintf("{\"secrets\":%s}", secrets_json);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/secrets", fake.port);
  assert_int_equal(th_http("POST", url, body, NULL), 200);
  free(body);
}

/* Registers an endpoint on the fake at path for token; returns it (caller decrefs). */
static json_t *register_endpoint(const char *token, const char *path, const char *format) {
  char *body = h_sprintf("{\"url\":\"http://127.0.0.1:%d%s\",\"format\":\"%s\"}", fake.port,
                         path, format);
  struct th_response r;
  th_call(&api, token, "POST", "/api/v1/users/me/webhook-endpoints", body, NULL, &r);
  free(body);
  assert_int_equal(r.status, 201);
  json_t *e = json_incref(r.json);
  th_response_free(&r);
  return e;
}

/* Sends a webhook notification to user as admin; returns the number of deliveries to an
 * endpoint (a skipped one without endpoint counts 0) and fills first (the first one's id). */
static int send_to(const char *admin, const char *user_id, const char *title, char first[37]) {
  char *body = h_sprintf("{\"user_id\":\"%s\",\"category\":\"comments\",\"title\":\"%s\","
                         "\"body\":\"A & B <x>\",\"action_url\":\"https://app.example/c/1\","
                         "\"channels\":[\"webhook\"],\"data\":{\"n\":7}}",
                         user_id, title);
  struct th_response r;
  th_call(&api, admin, "POST", "/api/v1/notifications", body, NULL, &r);
  free(body);
  assert_int_equal(r.status, 202);
  json_t *d = json_object_get(r.json, "deliveries");
  int n = 0;
  first[0] = '\0';
  size_t i;
  json_t *one;
  json_array_foreach(d, i, one) {
    assert_string_equal(th_str(one, "channel"), "webhook");
    if (th_str(one, "endpoint_id") == NULL) {
      assert_string_equal(th_str(one, "reason"), "no_endpoint");
      continue;
    }
    if (n++ == 0) {
      snprintf(first, 37, "%s", th_str(one, "id"));
    }
  }
  th_response_free(&r);
  return n;
}

/* Points endpoint id at url with its run of failures cleared (straight in PostgreSQL). */
static void repoint(const char *id, const char *url) {
  const char *params[] = {id, url};
  PGresult *res = PQexecParams(db, "UPDATE webhook_endpoints SET url = $2,"
                               " consecutive_failures = 0 WHERE id = $1::uuid",
                               2, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
}

/* The fake's record of delivery id (new reference) or NULL. */
static json_t *received(const char *id) {
  json_t *messages = wt_fake_messages(fake.port), *found = NULL;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    const char *d = th_str(m, "delivery_id");
    if (d != NULL && strcmp(d, id) == 0) {
      found = json_incref(m);
    }
  }
  json_decref(messages);
  return found;
}

static void test_signed_json_delivery(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hook", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *e = register_endpoint(token, "/hooks/json", "json");
  char secrets[160];
  snprintf(secrets, sizeof(secrets), "[\"%s\"]", th_str(e, "secret"));
  fake_secrets(secrets);
  assert_int_equal(send_to(admin, uid, "Hello", id), 1);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider FROM deliveries WHERE id = $1",
                              id), "sent/webhook");
  json_t *m = received(id);
  assert_non_null(m);
  assert_true(json_is_true(json_object_get(m, "verified")));
  assert_int_equal(json_integer_value(json_object_get(m, "signatures")), 1);
  assert_string_equal(th_str(m, "path"), "/hooks/json");
  assert_string_equal(th_str(m, "content_type"), "application/json");
  json_t *body = json_object_get(m, "body");
  assert_string_equal(th_str(body, "type"), "notification.created");
  json_t *data = json_object_get(body, "data");
  assert_string_equal(th_str(data, "title"), "Hello");
  assert_string_equal(th_str(data, "user_id"), uid);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(data, "data"), "n")), 7);
  char want[64];
  snprintf(want, sizeof(want), "200/%s", th_str(e, "id"));
  assert_string_equal(wt_text(db, "SELECT (meta->>'http_status') || '/' || (meta->>'endpoint_id')"
                                  " FROM delivery_events WHERE delivery_id = $1", id),
                      want);
  /* a receiver holding another secret refuses it: the worker retries */
  fake_secrets("[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]");
  assert_int_equal(send_to(admin, uid, "Again", id), 1);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", id),
                      "scheduled");
  json_decref(m);
  json_decref(e);
  free(token);
  free(admin);
}

static void test_rotation_grace_signs_twice(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hookrot", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *e = register_endpoint(token, "/hooks/rot", "json");
  char *old = h_strdup(th_str(e, "secret"));
  char *path = h_sprintf("/api/v1/users/me/webhook-endpoints/%s/rotate-secret", th_str(e, "id"));
  struct th_response r;
  th_call(&api, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  char *fresh = h_strdup(th_str(r.json, "secret"));
  assert_string_not_equal(old, fresh);
  assert_non_null(th_str(r.json, "previous_secret_expires_at"));
  th_response_free(&r);
  /* a receiver still on the old secret accepts it, one on the new one too */
  const char *each[] = {old, fresh};
  for (int i = 0; i < 2; i++) {
    char *list = h_sprintf("[\"%s\"]", each[i]);
    fake_secrets(list);
    free(list);
    assert_int_equal(send_to(admin, uid, "Rotated", id), 1);
    assert_int_equal(run_once("127.0.0.1/32"), 0);
    json_t *m = received(id);
    assert_non_null(m);
    assert_true(json_is_true(json_object_get(m, "verified")));
    assert_int_equal(json_integer_value(json_object_get(m, "signatures")), 2);
    json_decref(m);
  }
  /* once the grace is over only the new secret signs */
  assert_int_equal(th_sql_long("UPDATE webhook_endpoints SET previous_secret_expires_at ="
                               " now() - interval '1 second' WHERE id = $1::uuid RETURNING 1",
                               th_str(e, "id")), 1);
  char *list = h_sprintf("[\"%s\"]", old);
  fake_secrets(list);
  free(list);
  assert_int_equal(send_to(admin, uid, "Old", id), 1);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  json_t *m = received(id);
  assert_false(json_is_true(json_object_get(m, "verified")));
  assert_int_equal(json_integer_value(json_object_get(m, "signatures")), 1);
  json_decref(m);
  free(old);
  free(fresh);
  free(path);
  json_decref(e);
  free(token);
  free(admin);
}

static void test_slack_and_discord_formats(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hookfmt", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *s = register_endpoint(token, "/hooks/slack", "slack");
  json_t *d = register_endpoint(token, "/hooks/discord", "discord");
  char *list = h_sprintf("[\"%s\",\"%s\"]", th_str(s, "secret"), th_str(d, "secret"));
  fake_secrets(list);
  free(list);
  assert_int_equal(send_to(admin, uid, "Fmt", id), 2);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  json_t *messages = wt_fake_messages(fake.port);
  int seen = 0;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    json_t *body = json_object_get(m, "body");
    assert_true(json_is_true(json_object_get(m, "verified")));
    if (strcmp(th_str(m, "path"), "/hooks/slack") == 0) {
      json_t *blocks = json_object_get(body, "blocks");
      assert_string_equal(th_str(json_array_get(blocks, 0), "type"), "header");
      assert_string_equal(th_str(json_object_get(json_array_get(blocks, 1), "text"), "text"),
                          "A &amp; B &lt;x&gt;");
      seen |= 1;
    } else if (strcmp(th_str(m, "path"), "/hooks/discord") == 0) {
      json_t *embed = json_array_get(json_object_get(body, "embeds"), 0);
      assert_string_equal(th_str(embed, "title"), "Fmt");
      assert_string_equal(th_str(embed, "url"), "https://app.example/c/1");
      seen |= 2;
    }
  }
  assert_int_equal(seen, 3);
  json_decref(messages);
  json_decref(s);
  json_decref(d);
  free(token);
  free(admin);
}

/* A failing receiver: retried with backoff, the endpoint disabled after 3 failures in a
 * row, the rest skipped, the owner told by e-mail once. */
static void test_failures_disable_and_tell_owner(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hookfail", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *e = register_endpoint(token, "/hooks/down", "json");
  const char *eid = th_str(e, "id");
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"match\":\"/hooks/down\",\"status\":503,"
                          "\"count\":-1}");
  assert_int_equal(send_to(admin, uid, "Down", id), 1);
  struct wt_proc w;
  wt_worker_start(&w, HERALD_WEBHOOK_BIN, NULL,
                  worker_env("127.0.0.1/32", "HERALD_RETRY_BASE_MS=50"));
  bool disabled = wt_wait_scalar(db, "SELECT count(*) FROM webhook_endpoints WHERE NOT enabled"
                                 " AND consecutive_failures = 3 AND disabled_reason ="
                                 " 'consecutive_failures' AND id = ($1::uuid[])[1]",
                                 (char *[]){(char *)eid, NULL}, 1, 30);
  bool skipped = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ($1::uuid[])[1] AND"
                                " status = 'skipped' AND reason = 'endpoint_disabled'",
                                (char *[]){id, NULL}, 1, 30);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 10), 0);
  if (!disabled || !skipped) {
    wt_proc_dump(&w);
  }
  assert_true(disabled);
  assert_true(skipped);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ($1::uuid[])[1] AND status = 'retry'", (char *[]){id, NULL}), 3);
  /* A sweeper pass tells the owner (this one, or the API's own sweeper if it came first);
   * the next pass finds nobody left to tell. */
  long told = 0;
  PGconn *conn = wt_db();
  assert_int_equal(h_endpoint_notify_disabled(conn, wt_redis(), &told), H_OK);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM webhook_endpoints WHERE id ="
                                 " ($1::uuid[])[1] AND owner_notified_at IS NOT NULL",
                             (char *[]){(char *)eid, NULL}), 1);
  assert_int_equal(h_endpoint_notify_disabled(conn, wt_redis(), &told), H_OK);
  assert_int_equal(told, 0);
  PQfinish(conn);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE d.user_id = $1::uuid AND"
                               " d.channel = 'email' AND n.template_key ="
                               " 'webhook_endpoint_disabled'", uid), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action ="
                               " 'webhook_endpoint.disabled' AND target_id = $1", eid), 1);
  /* a disabled endpoint gets no new deliveries; enabled again, it does */
  assert_int_equal(send_to(admin, uid, "While disabled", id), 0);
  char *path = h_sprintf("/api/v1/users/me/webhook-endpoints/%s/enable", eid);
  struct th_response r;
  th_call(&api, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_true(json_object_get(r.json, "enabled")));
  assert_int_equal(json_integer_value(json_object_get(r.json, "consecutive_failures")), 0);
  th_response_free(&r);
  assert_int_equal(send_to(admin, uid, "Enabled", id), 1);
  free(path);
  json_decref(e);
  free(token);
  free(admin);
}

/* Redirects are not followed; an over-long answer and a slow one fail the attempt. */
static void test_redirect_big_and_slow(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hookodd", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *e = register_endpoint(token, "/hooks/odd", "json");
  char secrets[160];
  snprintf(secrets, sizeof(secrets), "[\"%s\"]", th_str(e, "secret"));
  fake_secrets(secrets);
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"match\":\"/hooks/odd\",\"mode\":\"redirect\","
                          "\"location\":\"/hooks/elsewhere\"}");
  assert_int_equal(send_to(admin, uid, "Redirect", id), 1);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              id), "failed/endpoint_rejected");
  json_t *messages = wt_fake_messages(fake.port);
  assert_int_equal(json_array_size(messages), 0); /* /hooks/elsewhere never asked */
  json_decref(messages);
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"match\":\"/hooks/odd\",\"mode\":\"big\","
                          "\"bytes\":100000}");
  assert_int_equal(send_to(admin, uid, "Big", id), 1);
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || last_error FROM deliveries"
                                  " WHERE id = $1", id), "scheduled/response body too large");
  wt_fake_rule(fake.port, "{\"stage\":\"send\",\"match\":\"/hooks/odd\",\"mode\":\"timeout\","
                          "\"delay_s\":3}");
  assert_int_equal(send_to(admin, uid, "Slow", id), 1);
  double t0 = wt_now();
  assert_int_equal(run_once("127.0.0.1/32"), 0);
  assert_true(wt_now() - t0 < 3.0); /* HERALD_PROVIDER_TIMEOUT_MS=1000 */
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", id),
                      "scheduled");
  json_decref(e);
  free(token);
  free(admin);
}

/* The worker checks the address again at delivery: a URL the API accepted under one
 * configuration is refused under another (no connection is made), and a row pointing at
 * a private address (written straight into PostgreSQL) is refused without DNS. */
static void test_worker_refuses_addresses(void **state) {
  (void)state;
  char uid[37], aid[37], id[37];
  char *token = th_user(&api, "hookssrf", NULL, uid);
  char *admin = th_admin_token(&api, aid);
  json_t *e = register_endpoint(token, "/hooks/ssrf", "json");
  assert_int_equal(send_to(admin, uid, "Loopback", id), 1);
  assert_int_equal(run_once("10.255.255.255/32"), 0); /* loopback not allowed: refused */
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              id), "failed/address_refused");
  json_t *messages = wt_fake_messages(fake.port);
  assert_int_equal(json_array_size(messages), 0);
  json_decref(messages);
  const char *urls[] = {"http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/",
                        "http://[::ffff:127.0.0.1]:1/x", "http://100.64.0.1/x", "ftp://127.0.0.1/",
                        NULL};
  for (int i = 0; urls[i] != NULL; i++) {
    repoint(th_str(e, "id"), urls[i]);
    assert_int_equal(send_to(admin, uid, "Private", id), 1);
    assert_int_equal(run_once("127.0.0.1/32"), 0);
    const char *got = wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              id);
    if (strcmp(got, "failed/address_refused") != 0 && strcmp(got, "failed/invalid_url") != 0) {
      fail_msg("%s: %s", urls[i], got);
    }
  }
  json_decref(e);
  free(token);
  free(admin);
}

/* The API refuses such endpoints outright: 400, nothing stored. */
static void test_api_refuses_addresses(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&api, "hookapi", NULL, uid);
  const char *cases[][2] = {
    {"{\"url\":\"http://10.1.2.3/x\"}", "address_not_allowed"},
    {"{\"url\":\"http://169.254.169.254/\"}", "address_not_allowed"},
    {"{\"url\":\"http://[fd00::1]/\"}", "address_not_allowed"},
    {"{\"url\":\"http://[::ffff:10.0.0.1]/\"}", "address_not_allowed"},
    {"{\"url\":\"http://127.0.0.2/\"}", "address_not_allowed"},
    {"{\"url\":\"ftp://127.0.0.1/\"}", "invalid_url"},
    {"{\"url\":\"http://u:p@127.0.0.1/\"}", "credentials_in_url"},
    {"{\"url\":\"not a url\"}", "invalid_url"},
    {"{\"url\":\"http://127.0.0.1/\",\"format\":\"teams\"}", "invalid_format"},
    {"{\"url\":\"http://127.0.0.1/\",\"categories\":[]}", "invalid_categories"},
    {"{\"url\":\"http://127.0.0.1/\",\"categories\":[\"a b\"]}", "invalid_category"},
    {"{\"url\":\"http://127.0.0.1/\",\"secret\":\"mine\"}", "unknown_field"},
    {"{\"url\":42}", "invalid_type"},
    {"{}", "missing"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct th_response r;
    th_call(&api, token, "POST", "/api/v1/users/me/webhook-endpoints", cases[i][0], NULL, &r);
    if (r.status != 400 || strstr(r.body, cases[i][1]) == NULL) {
      fail_msg("%s: %ld %s", cases[i][0], r.status, r.body);
    }
    th_response_free(&r);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM webhook_endpoints WHERE user_id = $1::uuid",
                               uid), 0);
  free(token);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_signed_json_delivery, before),
    cmocka_unit_test_setup(test_rotation_grace_signs_twice, before),
    cmocka_unit_test_setup(test_slack_and_discord_formats, before),
    cmocka_unit_test_setup(test_failures_disable_and_tell_owner, before),
    cmocka_unit_test_setup(test_redirect_big_and_slow, before),
    cmocka_unit_test_setup(test_worker_refuses_addresses, before),
    cmocka_unit_test_setup(test_api_refuses_addresses, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

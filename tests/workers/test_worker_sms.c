/* Worker: herald-sms against the fake Twilio-compatible API (tests/fakes/fake_sms.py),
 * and the API's status webhook (POST /api/v1/webhooks/sms/status) fed by the fake's
 * signed callbacks: rows, events, audit entries, segment counts (the fake counts
 * them independently) and every failure the fake can produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "webhooks/sms.h"
#include "wtest.h"

#define SID "ACtest0000000000000000000000000001"
#define TOKEN "sms-test-auth-token"

static struct wt_proc fake;
static struct th_server api;
static PGconn *db;
static char callback[160];

static int setup(void **state) {
  (void)state;
  const char *args[] = {"--account-sid", SID, "--auth-token", TOKEN, NULL};
  db = wt_begin(&fake, "fake_sms.py", args);
  setenv("HERALD_SMS_AUTH_TOKEN", TOKEN, 1);
  th_start(&api);
  snprintf(callback, sizeof(callback), "%s/api/v1/webhooks/sms/status", api.base);
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
  wt_reset("sms", &fake);
  return 0;
}

/* Runs herald-sms --once against the fake with token as its credentials. */
static int run_once(const char *token) {
  char base[96], tok[96], cb[220];
  snprintf(base, sizeof(base), "HERALD_SMS_BASE_URL=http://127.0.0.1:%d", fake.port);
  snprintf(tok, sizeof(tok), "HERALD_SMS_AUTH_TOKEN=%s", token);
  snprintf(cb, sizeof(cb), "HERALD_SMS_STATUS_CALLBACK_URL=%s", callback);
  const char *env[] = {"HERALD_SMS_PROVIDER=twilio", base, "HERALD_SMS_ACCOUNT_SID=" SID, tok,
                       "HERALD_SMS_FROM=+15005550006", cb, "HERALD_RETRY_BASE_MS=3000",
                       "HERALD_PROVIDER_TIMEOUT_MS=1000", "HERALD_LOG_LEVEL=info", NULL};
  const char *args[] = {"--once", NULL};
  return wt_run_shown(HERALD_SMS_BIN, args, env, 60, true);
}

/* Seeds one SMS job with body; returns its ids. */
static char **seed(const char *body) {
  struct wt_seed s = {.channel = "sms", .n = 1, .body = body, .phone = true};
  return wt_seed_jobs(db, &s);
}

static json_t *fake_message(const char *to) {
  json_t *messages = wt_fake_messages(fake.port);
  json_t *found = NULL;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    if (strcmp(json_string_value(json_object_get(m, "to")), to) == 0) {
      found = json_incref(m);
    }
  }
  json_decref(messages);
  return found;
}

static void test_sends_with_segments(void **state) {
  (void)state;
  char longtext[201];
  memset(longtext, 'a', 200);
  longtext[200] = '\0';
  char **gsm = seed(longtext);
  char **ucs = seed("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x91\x8b");
  wt_push("sms", gsm);
  wt_push("sms", ucs);
  assert_int_equal(run_once(TOKEN), 0);
  char **both[] = {gsm, ucs};
  const char *want[][2] = {{"2", "GSM-7"}, {"1", "UCS-2"}};
  for (int i = 0; i < 2; i++) {
    const char *id = both[i][0];
    assert_string_equal(wt_text(db, "SELECT status || '/' || provider FROM deliveries WHERE id = $1", id),
                        "sent/twilio");
    char phone[32], sid[64];
    snprintf(phone, sizeof(phone), "%s",
             wt_text(db, "SELECT u.phone FROM deliveries d JOIN users u ON u.id = d.user_id"
                  " WHERE d.id = $1", id));
    snprintf(sid, sizeof(sid), "%s",
             wt_text(db, "SELECT provider_message_id FROM deliveries WHERE id = $1", id));
    json_t *m = fake_message(phone);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "sid")), sid);
    assert_string_equal(json_string_value(json_object_get(m, "from")), "+15005550006");
    assert_string_equal(json_string_value(json_object_get(m, "status_callback")), callback);
    /* our count and the fake's (independent) count agree */
    assert_string_equal(json_string_value(json_object_get(m, "num_segments")), want[i][0]);
    assert_string_equal(json_string_value(json_object_get(m, "encoding")), want[i][1]);
    assert_string_equal(wt_text(db, "SELECT (meta->>'segments') || '/' || (meta->>'encoding')"
                             " FROM delivery_events WHERE delivery_id = $1", id),
                        i == 0 ? "2/GSM-7" : "1/UCS-2");
    json_decref(m);
  }
  wt_free_ids(gsm);
  wt_free_ids(ucs);
}

/* A template's SMS text goes out as it was rendered, not the in-app body stored beside it
 * (before, the worker sent the in-app body). */
static void test_template_sms_text(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "sms", .n = 1, .phone = true, .body = "In-app line",
                      .rendered = "{\"in_app\":{\"title\":\"Paid\",\"body\":\"In-app line\"},"
                                  "\"sms\":{\"text\":\"Receipt 7: paid\"}}"};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("sms", ids);
  assert_int_equal(run_once(TOKEN), 0);
  char phone[32];
  snprintf(phone, sizeof(phone), "%s",
           wt_text(db, "SELECT u.phone FROM deliveries d JOIN users u ON u.id = d.user_id"
                       " WHERE d.id = $1", ids[0]));
  json_t *m = fake_message(phone);
  assert_non_null(m);
  assert_string_equal(json_string_value(json_object_get(m, "body")), "Receipt 7: paid");
  json_decref(m);
  wt_free_ids(ids);
}

/* A rule on the fake for the phone of delivery id. */
static void rule_for(const char *id, const char *how) {
  char rule[512];
  snprintf(rule, sizeof(rule), "{\"stage\":\"send\",\"match\":\"%s\",%s}",
           wt_text(db, "SELECT u.phone FROM deliveries d JOIN users u ON u.id = d.user_id"
                " WHERE d.id = $1", id), how);
  wt_fake_rule(fake.port, rule);
}

static void test_failures(void **state) {
  (void)state;
  char **rejected = seed("x"), **limited = seed("x"), **down = seed("x"), **slow = seed("x"),
       **garbled = seed("x");
  rule_for(rejected[0], "\"status\":400,\"error_code\":21614,\"text\":\"not a mobile number\"");
  rule_for(limited[0], "\"status\":429,\"retry_after\":7");
  rule_for(down[0], "\"status\":503");
  rule_for(slow[0], "\"mode\":\"timeout\",\"delay_s\":3");
  rule_for(garbled[0], "\"mode\":\"malformed\"");
  char **all[] = {rejected, limited, down, slow, garbled};
  for (int i = 0; i < 5; i++) {
    wt_push("sms", all[i]);
  }
  assert_int_equal(run_once(TOKEN), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                           rejected[0]), "failed/provider_rejected");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", rejected[0]),
                         "code 21614: not a mobile number"));
  /* Retry-After is honoured: due no earlier than 7 s after the attempt */
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", limited[0]),
                      "scheduled");
  double wait = atof(wt_text(db, "SELECT extract(epoch FROM d.due_at - e.created_at) FROM deliveries d"
                          " JOIN delivery_events e ON e.delivery_id = d.id WHERE d.id = $1",
                          limited[0]));
  assert_true(wait >= 6.9 && wait < 8.5);
  const char *const *retried[] = {(const char *const *)down, (const char *const *)slow,
                                  (const char *const *)garbled};
  const char *errors[] = {"HTTP 503", "imeout", "unreadable reply"};
  for (int i = 0; i < 3; i++) {
    assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                             retried[i][0]), "scheduled/1");
    assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1",
                                retried[i][0]), errors[i]));
  }
  for (int i = 0; i < 5; i++) {
    wt_free_ids(all[i]);
  }
}

static void test_credentials_and_recipients(void **state) {
  (void)state;
  char **ids = seed("x");
  wt_push("sms", ids);
  assert_int_equal(run_once("not-the-token"), 0); /* 401: fix the credentials, keep the job */
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[0]), "scheduled");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", ids[0]),
                         "HTTP 401"));
  struct wt_seed s = {.channel = "sms", .n = 1, .phone = false};
  char **nophone = wt_seed_jobs(db, &s);
  wt_push("sms", nophone);
  assert_int_equal(run_once(TOKEN), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                           nophone[0]), "skipped/no_phone");
  json_t *messages = wt_fake_messages(fake.port);
  assert_int_equal(json_array_size(messages), 0);
  json_decref(messages);
  wt_free_ids(ids);
  wt_free_ids(nophone);
}

/* Asks the fake to send the status callback of message sid; returns the API's status. */
static long callback_for(const char *sid, const char *status, const char *extra) {
  char url[96], body[256];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/callback", fake.port);
  snprintf(body, sizeof(body), "{\"sid\":\"%s\",\"status\":\"%s\"%s}", sid, status,
           extra != NULL ? extra : "");
  json_t *doc = NULL;
  assert_int_equal(th_http("POST", url, body, &doc), 200);
  long got = (long)json_integer_value(json_object_get(doc, "status"));
  json_decref(doc);
  return got;
}

static void test_status_webhook(void **state) {
  (void)state;
  char **a = seed("first"), **b = seed("second");
  wt_push("sms", a);
  wt_push("sms", b);
  assert_int_equal(run_once(TOKEN), 0);
  char sid_a[64], sid_b[64];
  snprintf(sid_a, sizeof(sid_a), "%s", wt_text(db, "SELECT provider_message_id FROM deliveries"
                                            " WHERE id = $1", a[0]));
  snprintf(sid_b, sizeof(sid_b), "%s", wt_text(db, "SELECT provider_message_id FROM deliveries"
                                            " WHERE id = $1", b[0]));
  assert_int_equal(callback_for(sid_a, "sent", NULL), 204);
  assert_int_equal(callback_for(sid_a, "delivered", NULL), 204);
  assert_int_equal(callback_for(sid_a, "sent", NULL), 204); /* late: ignored */
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider_status || '/' ||"
                           " (delivered_at IS NOT NULL) FROM deliveries WHERE id = $1", a[0]),
                      "sent/delivered/true");
  assert_string_equal(wt_text(db, "SELECT string_agg(status, ',' ORDER BY id) FROM delivery_events"
                           " WHERE delivery_id = $1", a[0]), "sent,sent,delivered");
  assert_string_equal(wt_text(db, "SELECT count(*)::text FROM audit_log WHERE target_id = $1"
                           " AND action = 'delivery.provider_status' AND actor_type = 'system'",
                           a[0]), "2");
  assert_int_equal(callback_for(sid_b, "undelivered", ",\"error_code\":\"30003\""), 204);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason || '/' || last_error FROM deliveries"
                           " WHERE id = $1", b[0]),
                      "failed/provider_undelivered/provider error 30003");
  /* a forged callback changes nothing */
  assert_int_equal(callback_for(sid_a, "failed", ",\"signature\":\"bad\""), 400);
  assert_string_equal(wt_text(db, "SELECT provider_status FROM deliveries WHERE id = $1", a[0]),
                      "delivered");
  wt_free_ids(a);
  wt_free_ids(b);
}

/* Posts a form to the webhook, signed for the API's URL when sign is true. */
static void post_form(const char *form_body, const char *content_type, bool sign,
                      struct th_response *r) {
  char sig[32] = "", sig_header[64], ct[96];
  if (sign) {
    struct h_urlform form;
    assert_int_equal(h_urlform_parse(form_body, strlen(form_body), 64, &form), H_OK);
    h_twilio_signature(TOKEN, callback, &form, sig);
    h_urlform_free(&form);
  }
  snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
  snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
  const char *headers[] = {ct, sig_header, NULL};
  th_request(&api, "POST", "/api/v1/webhooks/sms/status", headers, form_body, r);
}

static void test_webhook_bad_requests(void **state) {
  (void)state;
  struct th_response r;
  const char *form = "MessageSid=SM0123&MessageStatus=delivered";
  post_form(form, "application/json", true, &r);
  th_assert_error(&r, 415, "unsupported_media_type");
  th_response_free(&r);
  post_form(form, "application/x-www-form-urlencoded", false, &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  post_form("MessageSid=%zz", "application/x-www-form-urlencoded", false, &r);
  th_assert_error(&r, 400, "malformed_form");
  th_response_free(&r);
  post_form("MessageStatus=exploded&MessageSid=no-such!sid", "application/x-www-form-urlencoded",
            true, &r);
  th_assert_error(&r, 400, "invalid_id"); /* the first field error's code */
  json_t *errors = json_object_get(json_object_get(r.json, "error"), "errors");
  assert_int_equal(json_array_size(errors), 2); /* every field error in the one 400 */
  th_assert_json_subset("{\"param\":\"MessageSid\",\"code\":\"invalid_id\"}",
                        json_array_get(errors, 0));
  th_assert_json_subset("{\"param\":\"MessageStatus\",\"code\":\"invalid_status\"}",
                        json_array_get(errors, 1));
  th_response_free(&r);
  post_form("MessageSid=SMunknown0000&MessageStatus=delivered",
            "application/x-www-form-urlencoded; charset=utf-8", true, &r);
  assert_int_equal(r.status, 204); /* unknown message: acknowledged, nothing changed */
  th_response_free(&r);
}

static void test_file_provider(void **state) {
  (void)state;
  char **ids = seed("hello \xe2\x82\xac");
  wt_push("sms", ids);
  char dir[256], var[300], path[400];
  snprintf(dir, sizeof(dir), "%s/outbox-sms", wt_tmpdir());
  snprintf(var, sizeof(var), "HERALD_SMS_OUTBOX_DIR=%s", dir);
  const char *env[] = {"HERALD_SMS_PROVIDER=file", var, NULL};
  const char *args[] = {"--once", NULL};
  assert_int_equal(wt_run(HERALD_SMS_BIN, args, env, NULL, 30), 0);
  snprintf(path, sizeof(path), "%s/%s.json", dir, ids[0]);
  json_t *doc = json_load_file(path, 0, NULL);
  assert_non_null(doc);
  assert_string_equal(json_string_value(json_object_get(doc, "delivery_id")), ids[0]);
  assert_string_equal(json_string_value(json_object_get(doc, "encoding")), "GSM-7");
  assert_int_equal(json_integer_value(json_object_get(doc, "segments")), 1);
  json_decref(doc);
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider FROM deliveries WHERE id = $1",
                           ids[0]), "sent/file");
  /* the file provider's own id ("file:<uuid>") comes back in its status callbacks */
  char sid[128], form[256];
  snprintf(sid, sizeof(sid), "%s", wt_text(db, "SELECT provider_message_id FROM deliveries"
                                        " WHERE id = $1", ids[0]));
  assert_int_equal(strncmp(sid, "file:", 5), 0);
  snprintf(form, sizeof(form), "MessageSid=%s&MessageStatus=delivered", sid);
  struct th_response r;
  post_form(form, "application/x-www-form-urlencoded", true, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  assert_string_equal(wt_text(db, "SELECT provider_status FROM deliveries WHERE id = $1", ids[0]),
                      "delivered");
  wt_free_ids(ids);
}

/* Provider ids: any printable id a provider may hand out, bounded; nothing else. */
static void test_webhook_message_ids(void **state) {
  (void)state;
  const char *good[] = {"SM0123", "file:6d1f0c2e-1b7a-4c39-9a57-5b1d2b0c8e11", "a",
                        "msg_01.abc-def@provider.example/42%2Bx=y~z", NULL};
  for (int i = 0; good[i] != NULL; i++) {
    char form[512];
    snprintf(form, sizeof(form), "MessageSid=%s&MessageStatus=sent", good[i]);
    struct th_response r;
    post_form(form, "application/x-www-form-urlencoded", true, &r);
    if (r.status != 204) {
      fail_msg("MessageSid %s: %ld %s", good[i], r.status, r.body);
    }
    th_response_free(&r);
  }
  char long_sid[300];
  memset(long_sid, 'a', 256);
  long_sid[256] = '\0';
  const char *bad[] = {"MessageSid=&MessageStatus=sent", "MessageSid=a+b&MessageStatus=sent",
                       "MessageSid=a%0Ab&MessageStatus=sent",
                       "MessageSid=a%22b&MessageStatus=sent",
                       "MessageSid=%C3%A9t%C3%A9&MessageStatus=sent", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    struct th_response r;
    post_form(bad[i], "application/x-www-form-urlencoded", true, &r);
    th_assert_error(&r, 400, "invalid_id");
    th_response_free(&r);
  }
  char form[400];
  snprintf(form, sizeof(form), "MessageSid=%s&MessageStatus=sent", long_sid);
  struct th_response r;
  post_form(form, "application/x-www-form-urlencoded", true, &r);
  th_assert_error(&r, 400, "invalid_id");
  th_response_free(&r);
  long_sid[255] = '\0';
  snprintf(form, sizeof(form), "MessageSid=%s&MessageStatus=sent", long_sid);
  post_form(form, "application/x-www-form-urlencoded", true, &r);
  assert_int_equal(r.status, 204); /* 255 characters: the longest accepted */
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_sends_with_segments, before),
    cmocka_unit_test_setup(test_template_sms_text, before),
    cmocka_unit_test_setup(test_failures, before),
    cmocka_unit_test_setup(test_credentials_and_recipients, before),
    cmocka_unit_test_setup(test_status_webhook, before),
    cmocka_unit_test_setup(test_webhook_bad_requests, before),
    cmocka_unit_test_setup(test_file_provider, before),
    cmocka_unit_test_setup(test_webhook_message_ids, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

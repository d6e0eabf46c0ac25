/* Worker + API: what providers report back. The fakes post signed webhooks to the API
 * in-process: SendGrid's ECDSA-signed bounce and spam events and Mailgun's HMAC-signed
 * failures and complaints suppress the address, after which herald-email skips it (the
 * fakes receive nothing); Vonage's delivery receipts of messages herald-sms sent through
 * it; inbound STOP / START / HELP from Twilio and Vonage. Every webhook's bad signature,
 * stale timestamp and malformed body is refused. */
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
#include "harness.h"
#include "wtest.h"

static struct wt_proc sendgrid, mailgun, twilio, vonage;
static struct th_server api;
static PGconn *db;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&sendgrid, "fake_sendgrid.py", NULL);
  wt_fake_start(&mailgun, "fake_mailgun.py", NULL);
  const char *tw_args[] = {"--account-sid", "ACfeedback00000000000000000000001", "--auth-token",
                           "tw-token", NULL};
  wt_fake_start(&twilio, "fake_sms.py", tw_args);
  wt_fake_start(&vonage, "fake_vonage.py", NULL);
  char url[96];
  json_t *key = NULL;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/webhook_key", sendgrid.port);
  assert_int_equal(th_http("GET", url, NULL, &key), 200);
  setenv("HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY", th_str(key, "public_key"), 1);
  json_decref(key);
  setenv("HERALD_MAILGUN_WEBHOOK_SIGNING_KEY", "fake-signing-key", 1);
  setenv("HERALD_VONAGE_SIGNATURE_SECRET", "vsigsecret", 1);
  setenv("HERALD_SMS_AUTH_TOKEN", "tw-token", 1);
  setenv("HERALD_SMS_HELP_TEXT", "Herald help: reply STOP to stop, START to resume.", 1);
  th_start(&api);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&api);
  wt_proc_signal(&mailgun, SIGTERM, 5);
  wt_proc_signal(&twilio, SIGTERM, 5);
  wt_proc_signal(&vonage, SIGTERM, 5);
  wt_end(db, &sendgrid);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &sendgrid);
  wt_reset("sms", &vonage);
  wt_fake_reset(mailgun.port);
  wt_fake_reset(twilio.port);
  return 0;
}

/* The recipient address of delivery id (static buffer of wt_text). */
static const char *address_of(const char *id) {
  return wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                     " WHERE d.id = $1", id);
}

/* Asks a fake (port) to post a webhook: POST /_fake/<what> with spec; returns the status
 * the API answered (and its body when body is not NULL; caller decrefs). */
static long fake_posts(int port, const char *what, json_t *spec, json_t **doc) {
  char url[96];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/%s", port, what);
  char *text = json_dumps(spec, JSON_COMPACT);
  json_decref(spec);
  json_t *answer = NULL;
  long got = th_http("POST", url, text, &answer);
  if (got != 200) {
    char *dump = json_dumps(answer, 0);
    fail_msg("POST %s %s: %ld %s", url, text, got, dump != NULL ? dump : "");
  }
  free(text);
  long status = (long)json_integer_value(json_object_get(answer, "status"));
  if (doc != NULL) {
    *doc = answer;
  } else {
    json_decref(answer);
  }
  return status;
}

static long sendgrid_event(json_t *events, const char *signature, long timestamp) {
  char url[128];
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/email/sendgrid", api.base);
  json_t *spec = json_pack("{ssso}", "url", url, "events", events);
  if (signature != NULL) {
    json_object_set_new(spec, "signature", json_string(signature));
  }
  if (timestamp > 0) {
    json_object_set_new(spec, "timestamp", json_integer(timestamp));
  }
  return fake_posts(sendgrid.port, "event", spec, NULL);
}

static long mailgun_event(json_t *data, const char *signature) {
  char url[128];
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/email/mailgun", api.base);
  json_t *spec = json_pack("{ssso}", "url", url, "event-data", data);
  if (signature != NULL) {
    json_object_set_new(spec, "signature", json_string(signature));
  }
  return fake_posts(mailgun.port, "event", spec, NULL);
}

static int run_email(void) {
  char sg[96], mg[96];
  snprintf(sg, sizeof(sg), "HERALD_SENDGRID_BASE_URL=http://127.0.0.1:%d", sendgrid.port);
  snprintf(mg, sizeof(mg), "HERALD_MAILGUN_BASE_URL=http://127.0.0.1:%d", mailgun.port);
  const char *env[] = {"HERALD_EMAIL_PROVIDERS=sendgrid,mailgun", sg, mg,
                       "HERALD_SENDGRID_API_KEY=SG.fake-key", "HERALD_MAILGUN_API_KEY=key-fake",
                       "HERALD_MAILGUN_DOMAIN=mg.example.com", "HERALD_LOG_LEVEL=warning", NULL};
  const char *args[] = {"--once", NULL};
  return wt_run_shown(HERALD_EMAIL_BIN, args, env, 60, true);
}

static void test_sendgrid_bounce_stops_email(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 3};
  char **ids = wt_seed_jobs(db, &s);
  char bounced[128], complained[128], blocked[128];
  snprintf(bounced, sizeof(bounced), "%s", address_of(ids[0]));
  snprintf(complained, sizeof(complained), "%s", address_of(ids[1]));
  snprintf(blocked, sizeof(blocked), "%s", address_of(ids[2]));
  /* refused: a wrong signature, a stale timestamp; nothing suppressed */
  json_t *one = json_pack("[{ssssss}]", "email", bounced, "event", "bounce", "type", "bounce");
  assert_int_equal(sendgrid_event(json_deep_copy(one), "bad", 0), 400);
  assert_int_equal(sendgrid_event(json_deep_copy(one), NULL, (long)time(NULL) - 3600), 400);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = lower($1)",
                               bounced), 0);
  json_decref(one);
  /* a hard bounce (upper case: stored lower), a spam report, a soft block, a delivery */
  char upper[128];
  snprintf(upper, sizeof(upper), "%s", bounced);
  upper[0] = (char)(upper[0] - 32);
  json_t *events = json_pack("[{ssssssssss}{ssssss}{ssssss}{ssss}]", "email", upper, "event",
                             "bounce", "type", "bounce", "status", "5.1.1", "sg_event_id",
                             "ev-1", "email", complained, "event", "spamreport", "sg_event_id",
                             "ev-2", "email", blocked, "event", "bounce", "type", "blocked",
                             "email", blocked, "event", "delivered");
  assert_int_equal(sendgrid_event(json_deep_copy(events), NULL, 0), 204);
  assert_int_equal(sendgrid_event(events, NULL, 0), 204); /* repeated: no change */
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = lower($1)"
                               " AND reason = 'bounce' AND provider = 'sendgrid'", bounced), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = $1"
                               " AND reason = 'complaint'", complained), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = $1",
                               blocked), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = 'email.suppressed'"
                               " AND details->>'event_id' = $1", "ev-1"), 1);
  /* herald-email skips the suppressed addresses: the fakes receive only the third */
  wt_push("email", ids);
  assert_int_equal(run_email(), 0);
  for (int i = 0; i < 2; i++) {
    assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                                ids[i]), "skipped/email_undeliverable");
  }
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[2]), "sent");
  json_t *counts = wt_fake_counts(sendgrid.port);
  assert_int_equal(json_object_size(counts), 1);
  assert_non_null(json_object_get(counts, ids[2]));
  json_decref(counts);
  wt_free_ids(ids);
}

static void test_sendgrid_bad_input(void **state) {
  (void)state;
  assert_int_equal(sendgrid_event(json_array(), NULL, 0), 400); /* empty */
  assert_int_equal(sendgrid_event(json_pack("[{ss}]", "email", "x@example.com"), NULL, 0), 400);
  assert_int_equal(sendgrid_event(json_pack("[{ssss}]", "event", "bounce", "type", "bounce"),
                                  NULL, 0), 400); /* a bounce without its address */
  struct th_response r;
  const char *headers[] = {"X-Twilio-Email-Event-Webhook-Signature: MEUCIQ==",
                           "X-Twilio-Email-Event-Webhook-Timestamp: 1", NULL};
  th_request(&api, "POST", "/api/v1/webhooks/email/sendgrid", headers,
             "[{\"event\": \"delivered\"}]", &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  th_request(&api, "POST", "/api/v1/webhooks/email/sendgrid", headers, "[]", &r);
  th_assert_error(&r, 400, "invalid_type"); /* the body's shape is checked first */
  th_response_free(&r);
  th_request(&api, "POST", "/api/v1/webhooks/email/sendgrid", NULL, "[{\"event\":", &r);
  th_assert_error(&r, 400, "malformed_json");
  th_response_free(&r);
}

static void test_mailgun_failures_and_complaints(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 3};
  char **ids = wt_seed_jobs(db, &s);
  char perm[128], temp[128], compl[128];
  snprintf(perm, sizeof(perm), "%s", address_of(ids[0]));
  snprintf(temp, sizeof(temp), "%s", address_of(ids[1]));
  snprintf(compl, sizeof(compl), "%s", address_of(ids[2]));
  assert_int_equal(mailgun_event(json_pack("{ssssss}", "event", "failed", "severity", "permanent",
                                           "recipient", perm), "bad"), 400);
  assert_int_equal(mailgun_event(json_pack("{ssssssss}", "event", "failed", "severity",
                                           "permanent", "recipient", perm, "id", "mg-1"), NULL),
                   204);
  assert_int_equal(mailgun_event(json_pack("{ssssss}", "event", "failed", "severity", "temporary",
                                           "recipient", temp), NULL), 204);
  assert_int_equal(mailgun_event(json_pack("{ssss}", "event", "complained", "recipient", compl),
                                 NULL), 204);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = $1"
                               " AND reason = 'bounce' AND provider = 'mailgun'"
                               " AND event_id = 'mg-1'", perm), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = $1", temp), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM email_suppressions WHERE email = $1"
                               " AND reason = 'complaint'", compl), 1);
  /* malformed: no signature object, no event, a failure without its recipient */
  struct th_response r;
  th_request(&api, "POST", "/api/v1/webhooks/email/mailgun", NULL, "{\"event-data\": {}}", &r);
  th_assert_field_error(&r, "signature", "missing_field");
  th_assert_field_error(&r, "event-data.event", "missing_field");
  th_response_free(&r);
  th_request(&api, "POST", "/api/v1/webhooks/email/mailgun", NULL,
             "{\"signature\": {\"timestamp\": 1}, \"event-data\": {\"event\": \"failed\"}}", &r);
  th_assert_field_error(&r, "signature.token", "missing_field");
  th_assert_field_error(&r, "signature.timestamp", "invalid_type");
  th_response_free(&r);
  assert_int_equal(mailgun_event(json_pack("{ssss}", "event", "failed", "severity", "permanent"),
                                 NULL), 400);
  wt_free_ids(ids);
}

/* Runs herald-sms --once through vonage with its receipts sent to the API. */
static int run_vonage(void) {
  char base[96], cb[160];
  snprintf(base, sizeof(base), "HERALD_VONAGE_BASE_URL=http://127.0.0.1:%d", vonage.port);
  snprintf(cb, sizeof(cb), "HERALD_VONAGE_STATUS_CALLBACK_URL=%s/api/v1/webhooks/sms/vonage/status",
           api.base);
  const char *env[] = {"HERALD_SMS_PROVIDERS=vonage", base, cb, "HERALD_VONAGE_API_KEY=vkey",
                       "HERALD_VONAGE_API_SECRET=vsecret", "HERALD_VONAGE_FROM=Herald",
                       "HERALD_LOG_LEVEL=warning", NULL};
  const char *args[] = {"--once", NULL};
  return wt_run_shown(HERALD_SMS_BIN, args, env, 60, true);
}

static long vonage_receipt(const char *message_id, const char *status, const char *sig) {
  json_t *spec = json_pack("{ssss}", "message_id", message_id, "status", status);
  if (sig != NULL) {
    json_object_set_new(spec, "signature", json_string(sig));
  }
  return fake_posts(vonage.port, "callback", spec, NULL);
}

static void test_vonage_receipts(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "sms", .n = 2, .phone = true};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("sms", ids);
  assert_int_equal(run_vonage(), 0);
  char mid0[64], mid1[64];
  snprintf(mid0, sizeof(mid0), "%s", wt_text(db, "SELECT provider_message_id FROM deliveries"
                                                 " WHERE id = $1 AND provider = 'vonage'", ids[0]));
  snprintf(mid1, sizeof(mid1), "%s", wt_text(db, "SELECT provider_message_id FROM deliveries"
                                                 " WHERE id = $1 AND provider = 'vonage'", ids[1]));
  assert_int_equal(vonage_receipt(mid0, "delivered", "bad"), 400);
  assert_int_equal(vonage_receipt(mid0, "unknownstatus", NULL), 400);
  assert_int_equal(vonage_receipt(mid0, "delivered", NULL), 204);
  assert_int_equal(vonage_receipt(mid0, "buffered", NULL), 204); /* late: ignored */
  assert_int_equal(vonage_receipt(mid1, "expired", NULL), 204);
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider_status || '/' ||"
                                  " (delivered_at IS NOT NULL)::text FROM deliveries WHERE id = $1",
                              ids[0]), "sent/delivered/true");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                              ids[1]), "failed/provider_undelivered");
  wt_free_ids(ids);
}

static long inbound(int port, const char *from, const char *text, json_t **answer) {
  char url[128];
  bool tw = port == twilio.port;
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/sms/%s", api.base,
           tw ? "inbound" : "vonage/inbound");
  json_t *spec = json_pack("{ssssss}", "url", url, "from", from, tw ? "body" : "text", text);
  return fake_posts(port, "inbound", spec, answer);
}

/* The text sql gives for user is want. */
static void assert_pref(const char *sql, const char *user, const char *want) {
  char *v = th_sql_text(sql, user);
  assert_string_equal(v, want);
  free(v);
}

static void test_inbound_keywords(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "sms", .n = 1, .phone = true};
  char **ids = wt_seed_jobs(db, &s);
  char phone[32], user[40];
  snprintf(phone, sizeof(phone), "%s", wt_text(db, "SELECT u.phone FROM deliveries d JOIN users u"
                                                   " ON u.id = d.user_id WHERE d.id = $1", ids[0]));
  snprintf(user, sizeof(user), "%s", wt_text(db, "SELECT user_id FROM deliveries WHERE id = $1",
                                             ids[0]));
  const char *pref = "SELECT COALESCE(channels->>'sms', 'unset') FROM notification_preferences"
                     " WHERE user_id = $1::uuid";
  json_t *answer = NULL;
  assert_int_equal(inbound(twilio.port, phone, " stop ", &answer), 200);
  assert_non_null(strstr(th_str(answer, "body"), "<Response></Response>"));
  json_decref(answer);
  assert_pref(pref, user, "false");
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action ="
                               " 'preferences.sms_stop' AND target_id = $1", user), 1);
  assert_int_equal(inbound(vonage.port, phone, "START", NULL), 204); /* digits, no '+' */
  assert_pref(pref, user, "true");
  assert_int_equal(inbound(twilio.port, phone, "Help", &answer), 200);
  assert_non_null(strstr(th_str(answer, "body"), "<Message>Herald help: reply STOP to stop,"
                                                 " START to resume.</Message>"));
  json_decref(answer);
  /* Vonage's HELP: a critical SMS with the help text, queued to the sender */
  assert_int_equal(inbound(vonage.port, phone, "HELP", NULL), 204);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE d.user_id = $1::uuid AND"
                               " n.category = 'sms_help' AND d.channel = 'sms' AND"
                               " d.status = 'queued' AND n.body LIKE 'Herald help:%'", user), 1);
  /* not a keyword: nothing changes; a bad signature or a bad sender is refused */
  assert_int_equal(inbound(twilio.port, phone, "stop sending me these", NULL), 200);
  assert_pref(pref, user, "true");
  char url[128];
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/sms/inbound", api.base);
  assert_int_equal(fake_posts(twilio.port, "inbound", json_pack("{ssssssss}", "url", url, "from",
                                                                phone, "body", "STOP", "signature",
                                                                "bad"), NULL), 400);
  assert_int_equal(inbound(twilio.port, "not-a-number", "STOP", NULL), 400);
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/sms/vonage/inbound", api.base);
  assert_int_equal(fake_posts(vonage.port, "inbound", json_pack("{ssssssss}", "url", url, "from",
                                                                phone, "text", "STOP", "signature",
                                                                "bad"), NULL), 400);
  assert_pref(pref, user, "true");
  struct th_response r;
  const char *json_type[] = {"Content-Type: application/json", NULL};
  th_request(&api, "POST", "/api/v1/webhooks/sms/vonage/inbound", json_type, "{}", &r);
  assert_int_equal(r.status, 415);
  th_response_free(&r);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_sendgrid_bounce_stops_email, before),
    cmocka_unit_test_setup(test_sendgrid_bad_input, before),
    cmocka_unit_test_setup(test_mailgun_failures_and_complaints, before),
    cmocka_unit_test_setup(test_vonage_receipts, before),
    cmocka_unit_test_setup(test_inbound_keywords, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Worker: ordered providers and circuit breakers (HERALD_EMAIL_PROVIDERS,
 * HERALD_SMS_PROVIDERS) through herald-email and herald-sms against the fakes
 * (fake_sendgrid.py, fake_mailgun.py, fake_sms.py, fake_vonage.py): provider A going
 * down mid-run moves every job to B with none received twice (counted in the fakes);
 * the shared breaker opens, lets one probe through after its cool-down and closes
 * (read in Redis and on the worker's /metrics); a permanent refusal does not fail over;
 * every call is in deliveries.provider_attempts. A window of jobs sent at once (--in-flight)
 * fails over job by job and probes once. */
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
#include "wtest.h"

static struct wt_proc sendgrid, mailgun, twilio, vonage;
static PGconn *db;
static char env_sg[96], env_mg[96], env_tw[96], env_vo[96], env_metrics[64];
static int metrics_port;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&sendgrid, "fake_sendgrid.py", NULL);
  wt_fake_start(&mailgun, "fake_mailgun.py", NULL);
  const char *tw_args[] = {"--account-sid", "ACfailover00000000000000000000001", "--auth-token",
                           "tw-token", NULL};
  wt_fake_start(&twilio, "fake_sms.py", tw_args);
  wt_fake_start(&vonage, "fake_vonage.py", NULL);
  snprintf(env_sg, sizeof(env_sg), "HERALD_SENDGRID_BASE_URL=http://127.0.0.1:%d", sendgrid.port);
  snprintf(env_mg, sizeof(env_mg), "HERALD_MAILGUN_BASE_URL=http://127.0.0.1:%d", mailgun.port);
  snprintf(env_tw, sizeof(env_tw), "HERALD_SMS_BASE_URL=http://127.0.0.1:%d", twilio.port);
  snprintf(env_vo, sizeof(env_vo), "HERALD_VONAGE_BASE_URL=http://127.0.0.1:%d", vonage.port);
  metrics_port = th_free_port();
  snprintf(env_metrics, sizeof(env_metrics), "HERALD_WORKER_METRICS_PORT=%d", metrics_port);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_proc_signal(&mailgun, SIGTERM, 5);
  wt_proc_signal(&twilio, SIGTERM, 5);
  wt_proc_signal(&vonage, SIGTERM, 5);
  wt_end(db, &sendgrid);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &sendgrid);
  wt_reset("sms", &twilio);
  wt_fake_reset(mailgun.port);
  wt_fake_reset(vonage.port);
  th_redis_del_keys("herald:cb:*");
  return 0;
}

/* The e-mail worker's environment: sendgrid then mailgun, the breaker settings. */
static const char *const *email_env(const char *failures) {
  static char fail_var[64];
  snprintf(fail_var, sizeof(fail_var), "HERALD_BREAKER_FAILURES=%s", failures);
  static const char *env[16];
  const char *list[] = {"HERALD_EMAIL_PROVIDERS=sendgrid,mailgun", env_sg, env_mg,
                        "HERALD_SENDGRID_API_KEY=SG.fake-key", "HERALD_MAILGUN_API_KEY=key-fake",
                        "HERALD_MAILGUN_DOMAIN=mg.example.com", fail_var,
                        "HERALD_BREAKER_COOLDOWN_MS=1500", "HERALD_RETRY_BASE_MS=200",
                        "HERALD_PROVIDER_TIMEOUT_MS=2000", "HERALD_LOG_LEVEL=warning",
                        env_metrics, NULL};
  memcpy(env, list, sizeof(list));
  return env;
}

static int run_once(const char *const *env) {
  const char *args[] = {"--once", "--concurrency", "1", "--batch", "1", NULL};
  return wt_run_shown(HERALD_EMAIL_BIN, args, env, 120, true);
}

static char **seed_email(int n) {
  struct wt_seed s = {.channel = "email", .n = n};
  return wt_seed_jobs(db, &s);
}

/* How many messages a fake received in all, and the most any one delivery id got. */
static long long received(int port, long long *most) {
  json_t *counts = wt_fake_counts(port);
  long long total = 0;
  const char *id;
  json_t *v;
  *most = 0;
  json_object_foreach(counts, id, v) {
    total += json_integer_value(v);
    *most = json_integer_value(v) > *most ? json_integer_value(v) : *most;
  }
  json_decref(counts);
  return total;
}

/* A field of the provider's breaker hash in Redis ("" when absent; static buffer). */
static const char *breaker(const char *queue, const char *provider, const char *field) {
  static char out[64];
  char key[96];
  snprintf(key, sizeof(key), "herald:cb:{%s}:%s", queue, provider);
  const char *argv[] = {"HGET", key, field};
  redisReply *reply = NULL;
  assert_int_equal(h_redis_argv(wt_redis(), &reply, 3, argv), H_OK);
  snprintf(out, sizeof(out), "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
  freeReplyObject(reply);
  return out;
}

/* The worker's /metrics (caller frees), polled until it contains want (or 10 s). */
static char *metrics_with(const char *want) {
  char url[64], *body = NULL;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", metrics_port);
  for (double end = wt_now() + 10; wt_now() < end; wt_sleep_ms(100)) {
    free(body);
    body = NULL;
    if (th_http_text(url, &body) == 200 && strstr(body, want) != NULL) {
      return body;
    }
  }
  fail_msg("the worker's /metrics never showed %s:\n%s", want, body != NULL ? body : "(none)");
  return NULL;
}

static void test_provider_down_mid_run(void **state) {
  (void)state;
  char **ids = seed_email(40);
  wt_fake_delay(sendgrid.port, 30);
  struct wt_proc worker;
  const char *args[] = {"--concurrency", "2", "--batch", "4", NULL};
  wt_worker_start(&worker, HERALD_EMAIL_BIN, args, email_env("3"));
  wt_push("email", ids);
  long long most = 0;
  double end = wt_now() + 20;
  while (received(sendgrid.port, &most) < 8 && wt_now() < end) {
    wt_sleep_ms(20);
  }
  /* sendgrid goes down: every request answered 503 from now on */
  wt_fake_rule(sendgrid.port, "{\"stage\": \"send\", \"mode\": \"status\", \"status\": 503,"
                              " \"count\": -1}");
  wt_sleep_ms(200); /* the calls it had accepted before the rule answer */
  long long before_down = received(sendgrid.port, &most);
  assert_true(before_down >= 8 && before_down < 40);
  assert_true(wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids, 40, 60));
  char *m = metrics_with("herald_worker_breaker_state{queue=\"email\",provider=\"sendgrid\"} 1");
  assert_non_null(strstr(m, "herald_worker_breaker_state{queue=\"email\",provider=\"mailgun\"} 0"));
  assert_null(strstr(m, "herald_worker_failovers_total{queue=\"email\"} 0\n"));
  assert_non_null(strstr(m, "provider=\"sendgrid\",result=\"breaker_open\""));
  free(m);
  assert_int_equal(wt_proc_signal(&worker, SIGTERM, 15), 0);
  long long sg = received(sendgrid.port, &most);
  assert_int_equal(most, 1);
  long long mg = received(mailgun.port, &most);
  assert_int_equal(most, 1); /* none twice */
  assert_int_equal(sg + mg, 40);
  assert_int_equal(sg, before_down);
  json_t *sg_counts = wt_fake_counts(sendgrid.port), *mg_counts = wt_fake_counts(mailgun.port);
  for (size_t i = 0; ids[i] != NULL; i++) { /* the row names the provider that took it */
    const char *provider = wt_text(db, "SELECT provider FROM deliveries WHERE id = $1", ids[i]);
    json_t *where = strcmp(provider, "sendgrid") == 0 ? sg_counts : mg_counts;
    assert_int_equal(json_integer_value(json_object_get(where, ids[i])), 1);
  }
  json_decref(sg_counts);
  json_decref(mg_counts);
  /* the jobs that failed over show both calls, sendgrid's refused one first */
  assert_true(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                            " AND provider = 'mailgun'"
                            " AND provider_attempts->0->>'provider' = 'sendgrid'"
                            " AND provider_attempts->0->>'status' IN ('retry', 'breaker_open')"
                            " AND provider_attempts->1->>'status' = 'sent'"
                            " AND jsonb_array_length(provider_attempts) = 2", ids) == mg);
  assert_string_equal(breaker("email", "sendgrid", "state"), "open");
  assert_int_equal(wt_processing("email"), 0);
  wt_free_ids(ids);
}

static void test_breaker_opens_probes_and_closes(void **state) {
  (void)state;
  wt_fake_rule(sendgrid.port, "{\"stage\": \"send\", \"mode\": \"status\", \"status\": 500,"
                              " \"count\": -1}");
  char **ids = seed_email(6);
  wt_push("email", ids);
  assert_int_equal(run_once(email_env("3")), 0);
  /* three calls failed (each job went on to mailgun), then the breaker opened */
  assert_int_equal(wt_fake_stat(sendgrid.port, "failures"), 3);
  long long most = 0;
  assert_int_equal(received(mailgun.port, &most), 6);
  assert_string_equal(breaker("email", "sendgrid", "state"), "open");
  assert_string_equal(breaker("email", "sendgrid", "opened"), "1");
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND provider_attempts->0->>'status' = 'breaker_open'", ids), 3);
  /* sendgrid is back; within the cool-down nothing reaches it */
  wt_fake_clear_rules(sendgrid.port);
  char **early = seed_email(1);
  wt_push("email", early);
  assert_int_equal(run_once(email_env("3")), 0);
  assert_int_equal(received(sendgrid.port, &most), 0);
  assert_string_equal(wt_text(db, "SELECT provider FROM deliveries WHERE id = $1", early[0]),
                      "mailgun");
  /* after it: one probe (half-open) succeeds and closes it; the next jobs go to sendgrid
   * (one job at a time here: test_window_probe shows a window's probe) */
  wt_sleep_ms(1600);
  char **later = seed_email(3);
  wt_push("email", later);
  struct wt_proc worker;
  const char *args[] = {"--concurrency", "1", "--in-flight", "1", NULL};
  wt_worker_start(&worker, HERALD_EMAIL_BIN, args, email_env("3"));
  assert_true(wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", later, 3, 30));
  char *m = metrics_with("herald_worker_breaker_state{queue=\"email\",provider=\"sendgrid\"} 0");
  assert_non_null(strstr(m, "herald_worker_breaker_transitions_total{queue=\"email\","
                            "provider=\"sendgrid\",to=\"closed\"} 1"));
  assert_non_null(strstr(m, "herald_worker_provider_calls_total{queue=\"email\","
                            "provider=\"sendgrid\",result=\"ok\"} 3"));
  free(m);
  assert_int_equal(wt_proc_signal(&worker, SIGTERM, 15), 0);
  assert_int_equal(received(sendgrid.port, &most), 3);
  assert_string_equal(breaker("email", "sendgrid", "state"), "closed");
  assert_string_equal(breaker("email", "sendgrid", "half_opened"), "1");
  assert_string_equal(breaker("email", "sendgrid", "closed"), "1");
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND provider = 'sendgrid'", later), 3);
  wt_free_ids(ids);
  wt_free_ids(early);
  wt_free_ids(later);
}

/* A window of jobs (--in-flight) through ordered providers: the jobs are at the first
 * provider together, so a provider that fails takes the whole window's calls before the
 * breaker hears of them, and each job fails over to the next one; after the cool-down a
 * window sends one probe, and its other jobs go to the next provider. */
static void test_window_probe(void **state) {
  (void)state;
  wt_fake_rule(sendgrid.port, "{\"stage\": \"send\", \"mode\": \"status\", \"status\": 500,"
                              " \"count\": -1}");
  char **ids = seed_email(6);
  wt_push("email", ids);
  const char *args[] = {"--once", "--concurrency", "1", "--in-flight", "8", NULL};
  assert_int_equal(wt_run_shown(HERALD_EMAIL_BIN, args, email_env("3"), 120, true), 0);
  /* all six, where one job at a time stops at three (test_breaker_opens_probes_and_closes) */
  assert_int_equal(wt_fake_stat(sendgrid.port, "failures"), 6);
  long long most = 0;
  assert_int_equal(received(mailgun.port, &most), 6);
  assert_int_equal(most, 1);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND provider = 'mailgun'"
                                 " AND provider_attempts->0->>'status' = 'retry'"
                                 " AND provider_attempts->1->>'status' = 'sent'", ids), 6);
  assert_string_equal(breaker("email", "sendgrid", "state"), "open");
  /* sendgrid is back; after the cool-down a window of three sends one probe */
  wt_fake_clear_rules(sendgrid.port);
  wt_sleep_ms(1600);
  char **later = seed_email(3);
  wt_push("email", later);
  assert_int_equal(wt_run_shown(HERALD_EMAIL_BIN, args, email_env("3"), 120, true), 0);
  assert_int_equal(received(sendgrid.port, &most), 1);
  assert_string_equal(breaker("email", "sendgrid", "state"), "closed");
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND provider = 'mailgun'"
                                 " AND provider_attempts->0->>'status' = 'breaker_open'", later), 2);
  wt_free_ids(ids);
  wt_free_ids(later);
}

/* The error rate opens the breaker too: 2 failed calls of 4 at a 50 % rate (and a run limit
 * never reached), the successes between them counted (a thread sends them with its next
 * report). */
static void test_error_rate_opens_breaker(void **state) {
  (void)state;
  char **ids = seed_email(6);
  for (int i = 0; i < 4; i += 3) { /* the 1st and 4th calls fail */
    char rule[300];
    snprintf(rule, sizeof(rule), "{\"stage\": \"send\", \"match\": \"%s\", \"status\": 503}",
             wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                         " WHERE d.id = $1", ids[i]));
    wt_fake_rule(sendgrid.port, rule);
  }
  wt_push("email", ids);
  const char *const *base = email_env("100");
  const char *env[24];
  size_t n = 0;
  while (base[n] != NULL) {
    env[n] = base[n];
    n++;
  }
  env[n++] = "HERALD_BREAKER_ERROR_RATE=50";
  env[n++] = "HERALD_BREAKER_MIN_CALLS=4";
  env[n] = NULL;
  assert_int_equal(run_once(env), 0);
  assert_string_equal(breaker("email", "sendgrid", "state"), "open");
  assert_string_equal(breaker("email", "sendgrid", "calls"), "4");
  assert_string_equal(breaker("email", "sendgrid", "fails"), "2");
  json_t *sg = wt_fake_counts(sendgrid.port), *mg = wt_fake_counts(mailgun.port);
  assert_int_equal(json_object_size(sg), 2);
  assert_non_null(json_object_get(sg, ids[1]));
  assert_non_null(json_object_get(sg, ids[2]));
  assert_int_equal(json_object_size(mg), 4); /* the two refused and the two after it opened */
  assert_non_null(json_object_get(mg, ids[0]));
  assert_non_null(json_object_get(mg, ids[5]));
  json_decref(sg);
  json_decref(mg);
  assert_string_equal(wt_text(db, "SELECT provider_attempts->0->>'status' FROM deliveries"
                                  " WHERE id = $1", ids[5]), "breaker_open");
  wt_free_ids(ids);
}

static void test_permanent_failure_does_not_fail_over(void **state) {
  (void)state;
  char **ids = seed_email(2);
  const char *bad = wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                                " WHERE d.id = $1", ids[0]);
  char rule[400];
  snprintf(rule, sizeof(rule), "{\"stage\": \"send\", \"match\": \"%s\", \"mode\": \"status\","
                               " \"status\": 400, \"text\": \"Does not contain a valid address.\"}",
           bad);
  wt_fake_rule(sendgrid.port, rule);
  wt_push("email", ids);
  assert_int_equal(run_once(email_env("3")), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason || '/' || provider FROM"
                                  " deliveries WHERE id = $1", ids[0]),
                      "failed/provider_rejected/sendgrid");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", ids[0]),
                         "HTTP 400: Does not contain a valid address."));
  assert_string_equal(wt_text(db, "SELECT provider_attempts->0->>'status' ||"
                                  " jsonb_array_length(provider_attempts) FROM deliveries"
                                  " WHERE id = $1", ids[0]), "failed1");
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider FROM deliveries WHERE id = $1",
                              ids[1]), "sent/sendgrid");
  long long most = 0;
  assert_int_equal(received(mailgun.port, &most), 0);
  /* an answer, not an outage: both calls counted, no failure run, never opened */
  assert_string_equal(breaker("email", "sendgrid", "calls"), "2");
  assert_string_equal(breaker("email", "sendgrid", "run"), "0");
  assert_string_equal(breaker("email", "sendgrid", "opened"), "");
  wt_free_ids(ids);
}

/* Every provider down: the job is retried later (scheduled), never failed. */
static void test_all_down_retries(void **state) {
  (void)state;
  wt_fake_rule(sendgrid.port, "{\"stage\": \"send\", \"status\": 429, \"retry_after\": 1,"
                              " \"count\": -1}");
  wt_fake_rule(mailgun.port, "{\"stage\": \"send\", \"status\": 502, \"count\": -1}");
  char **ids = seed_email(1);
  wt_push("email", ids);
  assert_int_equal(run_once(email_env("3")), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts || '/' || provider FROM"
                                  " deliveries WHERE id = $1", ids[0]), "scheduled/1/mailgun");
  assert_string_equal(wt_text(db, "SELECT string_agg(e->>'provider' || ':' || (e->>'status'), ',')"
                                  " FROM deliveries, jsonb_array_elements(provider_attempts) e"
                                  " WHERE id = $1", ids[0]), "sendgrid:retry,mailgun:retry");
  wt_free_ids(ids);
}

/* SMS: twilio refusing connections moves the job to vonage, whose message id is kept. */
static void test_sms_failover_to_vonage(void **state) {
  (void)state;
  wt_fake_rule(twilio.port, "{\"stage\": \"send\", \"mode\": \"disconnect\", \"count\": -1}");
  struct wt_seed s = {.channel = "sms", .n = 2, .phone = true};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("sms", ids);
  const char *env[] = {"HERALD_SMS_PROVIDERS=twilio,vonage", env_tw, env_vo,
                       "HERALD_SMS_ACCOUNT_SID=ACfailover00000000000000000000001",
                       "HERALD_SMS_AUTH_TOKEN=tw-token", "HERALD_SMS_FROM=+15005550006",
                       "HERALD_VONAGE_API_KEY=vkey", "HERALD_VONAGE_API_SECRET=vsecret",
                       "HERALD_PROVIDER_TIMEOUT_MS=2000", "HERALD_LOG_LEVEL=warning", NULL};
  const char *args[] = {"--once", NULL};
  assert_int_equal(wt_run_shown(HERALD_SMS_BIN, args, env, 60, true), 0);
  long long most = 0;
  assert_int_equal(received(vonage.port, &most), 2);
  assert_int_equal(most, 1);
  assert_int_equal(received(twilio.port, &most), 0);
  for (int i = 0; i < 2; i++) {
    assert_string_equal(wt_text(db, "SELECT status || '/' || provider || '/' ||"
                                    " (provider_message_id ~ '^[0-9A-F]{18}$')::text FROM"
                                    " deliveries WHERE id = $1", ids[i]), "sent/vonage/true");
  }
  wt_free_ids(ids);
}

/* The SMS providers send a window's jobs together too (one HTTP request per job): vonage
 * 300 ms late has three of six requests at once with --in-flight 3 and one thread, each job
 * sent once and timed by its own request. */
static void test_sms_requests_in_flight(void **state) {
  (void)state;
  wt_fake_delay(vonage.port, 300);
  struct wt_seed s = {.channel = "sms", .n = 6, .phone = true};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("sms", ids);
  const char *env[] = {"HERALD_SMS_PROVIDERS=vonage", env_vo, "HERALD_SMS_FROM=+15005550006",
                       "HERALD_VONAGE_API_KEY=vkey", "HERALD_VONAGE_API_SECRET=vsecret",
                       "HERALD_PROVIDER_TIMEOUT_MS=5000", "HERALD_LOG_LEVEL=warning", NULL};
  const char *args[] = {"--once", "--concurrency", "1", "--in-flight", "3", NULL};
  assert_int_equal(wt_run_shown(HERALD_SMS_BIN, args, env, 60, true), 0);
  assert_int_equal(wt_fake_stat(vonage.port, "max_in_flight"), 3);
  long long most = 0;
  assert_int_equal(received(vonage.port, &most), 6);
  assert_int_equal(most, 1);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND provider = 'vonage'"
                                 " AND (provider_attempts->0->>'duration_ms')::int"
                                 " BETWEEN 290 AND 590", ids), 6);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_provider_down_mid_run, before),
    cmocka_unit_test_setup(test_breaker_opens_probes_and_closes, before),
    cmocka_unit_test_setup(test_window_probe, before),
    cmocka_unit_test_setup(test_error_rate_opens_breaker, before),
    cmocka_unit_test_setup(test_permanent_failure_does_not_fail_over, before),
    cmocka_unit_test_setup(test_all_down_retries, before),
    cmocka_unit_test_setup(test_sms_failover_to_vonage, before),
    cmocka_unit_test_setup(test_sms_requests_in_flight, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

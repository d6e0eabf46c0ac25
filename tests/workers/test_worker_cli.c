/* Worker: the command line every worker shares: usage errors (exit 2), --help,
 * --version, bad configuration (exit 78), --dry-run, --max-jobs, stats and
 * --metrics-port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "wtest.h"

static PGconn *db;
static const char *bins[] = {HERALD_EMAIL_BIN, HERALD_SMS_BIN, HERALD_PUSH_BIN};
static const char *names[] = {"herald-email", "herald-sms", "herald-push"};

static int setup(void **state) {
  (void)state;
  db = wt_begin(NULL, NULL, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, NULL);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_queue_clear("email");
  return 0;
}

/* Splits line on spaces into a NULL-terminated vector (static storage). */
static const char *const *words(const char *line) {
  static char buf[512];
  static const char *argv[32];
  snprintf(buf, sizeof(buf), "%s", line);
  int n = 0;
  for (char *tok = strtok(buf, " "); tok != NULL && n < 31; tok = strtok(NULL, " ")) {
    argv[n++] = tok;
  }
  argv[n] = NULL;
  return argv;
}

static void test_usage_errors(void **state) {
  (void)state;
  const char *bad[] = {"--bogus", "--concurrency 0", "-c many", "--max-jobs -1",
                       "--log-level loud", "--metrics-port 70000", "dlq", "dlq frob",
                       "dlq replay", "dlq replay --id x --all", "dlq purge --older-than 5x",
                       "stats extra", "frobnicate", "--batch 0", "--batch 501", "-b many",
                       "--batch", "--in-flight 0", "--in-flight 101", "--in-flight x",
                       "--in-flight", NULL};
  for (int b = 0; b < 3; b++) {
    for (int i = 0; bad[i] != NULL; i++) {
      char *out = NULL;
      int rc = wt_run(bins[b], words(bad[i]), NULL, &out, 10);
      if (rc != 2 || strstr(out, "Usage:") == NULL || strstr(out, names[b]) == NULL) {
        fail_msg("%s %s: exit %d, output:\n%s", names[b], bad[i], rc, out);
      }
      free(out);
    }
  }
}

static void test_help_and_version(void **state) {
  (void)state;
  for (int b = 0; b < 3; b++) {
    char *out = NULL;
    assert_int_equal(wt_run(bins[b], words("--help"), NULL, &out, 10), 0);
    assert_non_null(strstr(out, "dlq replay (--id ID | --all)"));
    assert_non_null(strstr(out, "--metrics-port"));
    assert_non_null(strstr(out, "--batch N"));
    free(out);
    assert_int_equal(wt_run(bins[b], words("--version"), NULL, &out, 10), 0);
    char want[64];
    snprintf(want, sizeof(want), "%s 0.", names[b]);
    assert_non_null(strstr(out, want));
    free(out);
  }
}

static void expect_config_error(const char *bin, const char *var, const char *name) {
  const char *env[] = {var, NULL};
  char *out = NULL;
  int rc = wt_run(bin, words("--once"), env, &out, 10);
  if (rc != 78 || strstr(out, name) == NULL) {
    fail_msg("%s with %s: exit %d, output:\n%s", bin, var, rc, out);
  }
  free(out);
}

static void test_bad_configuration(void **state) {
  (void)state;
  expect_config_error(HERALD_EMAIL_BIN, "HERALD_EMAIL_FROM=not an address", "HERALD_EMAIL_FROM");
  expect_config_error(HERALD_EMAIL_BIN, "HERALD_SMTP_TLS=sometimes", "HERALD_SMTP_TLS");
  /* AUTH over a plain connection would send the password in clear */
  expect_config_error(HERALD_EMAIL_BIN, "HERALD_SMTP_USER=mailer", "HERALD_SMTP_TLS");
  expect_config_error(HERALD_EMAIL_BIN, "HERALD_REDIS_URL=http://nope", "HERALD_REDIS_URL");
  expect_config_error(HERALD_EMAIL_BIN, "HERALD_WORKER_CONCURRENCY=0", "HERALD_WORKER_CONCURRENCY");
  expect_config_error(HERALD_SMS_BIN, "HERALD_SMS_PROVIDER=twilio", "HERALD_SMS_ACCOUNT_SID");
  expect_config_error(HERALD_PUSH_BIN, "HERALD_PUSH_PROVIDER=fcm", "HERALD_FCM_CREDENTIALS_FILE");
}

/* bin with env (NULL-terminated) must stop with 78 naming name, or (want_ok) pass
 * --check-config printing ok. */
static void expect_config(const char *bin, const char *const *env, const char *name, bool want_ok) {
  char *out = NULL;
  int rc = wt_run(bin, words("--check-config"), env, &out, 10);
  if (want_ok ? rc != 0 || strstr(out, name) == NULL : rc != 78 || strstr(out, name) == NULL) {
    fail_msg("%s with %s...: exit %d, output:\n%s", bin, env[0], rc, out);
  }
  free(out);
}

static void test_bad_provider_configuration(void **state) {
  (void)state;
  const char *sg_no_key[] = {"HERALD_EMAIL_PROVIDERS=smtp,sendgrid", NULL};
  expect_config(HERALD_EMAIL_BIN, sg_no_key, "HERALD_SENDGRID_API_KEY", false);
  const char *sg_bad_url[] = {"HERALD_EMAIL_PROVIDERS=sendgrid", "HERALD_SENDGRID_API_KEY=k",
                              "HERALD_SENDGRID_BASE_URL=ftp://x", NULL};
  expect_config(HERALD_EMAIL_BIN, sg_bad_url, "HERALD_SENDGRID_BASE_URL", false);
  const char *mg_no_domain[] = {"HERALD_EMAIL_PROVIDERS=mailgun", "HERALD_MAILGUN_API_KEY=k", NULL};
  expect_config(HERALD_EMAIL_BIN, mg_no_domain, "HERALD_MAILGUN_DOMAIN", false);
  const char *mg_bad_domain[] = {"HERALD_EMAIL_PROVIDERS=mailgun", "HERALD_MAILGUN_API_KEY=k",
                                 "HERALD_MAILGUN_DOMAIN=a/b", NULL};
  expect_config(HERALD_EMAIL_BIN, mg_bad_domain, "HERALD_MAILGUN_DOMAIN", false);
  const char *mg_no_key[] = {"HERALD_EMAIL_PROVIDERS=file,mailgun", NULL};
  expect_config(HERALD_EMAIL_BIN, mg_no_key, "HERALD_MAILGUN_API_KEY", false);
  const char *dup[] = {"HERALD_EMAIL_PROVIDERS=file,file", NULL};
  expect_config(HERALD_EMAIL_BIN, dup, "HERALD_EMAIL_PROVIDERS", false);
  const char *wrong_channel[] = {"HERALD_SMS_PROVIDERS=twilio,smtp", NULL};
  expect_config(HERALD_SMS_BIN, wrong_channel, "HERALD_SMS_PROVIDERS", false);
  const char *vo_no_key[] = {"HERALD_SMS_PROVIDERS=vonage", NULL};
  expect_config(HERALD_SMS_BIN, vo_no_key, "HERALD_VONAGE_API_KEY", false);
  const char *vo_no_secret[] = {"HERALD_SMS_PROVIDERS=vonage", "HERALD_VONAGE_API_KEY=k", NULL};
  expect_config(HERALD_SMS_BIN, vo_no_secret, "HERALD_VONAGE_API_SECRET", false);
  const char *vo_bad_from[] = {"HERALD_SMS_PROVIDERS=vonage", "HERALD_VONAGE_API_KEY=k",
                               "HERALD_VONAGE_API_SECRET=s", "HERALD_VONAGE_FROM=Too long sender",
                               NULL};
  expect_config(HERALD_SMS_BIN, vo_bad_from, "HERALD_VONAGE_FROM", false);
  const char *vo_bad_url[] = {"HERALD_SMS_PROVIDERS=vonage", "HERALD_VONAGE_API_KEY=k",
                              "HERALD_VONAGE_API_SECRET=s", "HERALD_VONAGE_FROM=Herald",
                              "HERALD_VONAGE_BASE_URL=rest.nexmo.com", NULL};
  expect_config(HERALD_SMS_BIN, vo_bad_url, "HERALD_VONAGE_BASE_URL", false);
  const char *tw_in_list[] = {"HERALD_SMS_PROVIDERS=file,twilio", NULL};
  expect_config(HERALD_SMS_BIN, tw_in_list, "HERALD_SMS_ACCOUNT_SID", false);
  const char *breaker[] = {"HERALD_EMAIL_PROVIDERS=file", "HERALD_BREAKER_FAILURES=0", NULL};
  expect_config(HERALD_EMAIL_BIN, breaker, "HERALD_BREAKER_FAILURES", false);
  /* and the good ones */
  const char *email_ok[] = {"HERALD_EMAIL_PROVIDERS=smtp,sendgrid,mailgun",
                            "HERALD_SENDGRID_API_KEY=k", "HERALD_MAILGUN_API_KEY=k",
                            "HERALD_MAILGUN_DOMAIN=mg.example.com", NULL};
  expect_config(HERALD_EMAIL_BIN, email_ok, "configuration ok (providers smtp,sendgrid,mailgun)",
                true);
  const char *sms_ok[] = {"HERALD_SMS_PROVIDERS=vonage,file", "HERALD_VONAGE_API_KEY=k",
                          "HERALD_VONAGE_API_SECRET=s", "HERALD_SMS_FROM=+15005550006", NULL};
  expect_config(HERALD_SMS_BIN, sms_ok, "configuration ok (providers vonage,file)", true);
}

static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
    n += e->d_name[0] != '.';
  }
  if (d != NULL) {
    closedir(d);
  }
  return n;
}

static void test_dry_run(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 2, .title = "Dry"};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  char dir[256], var[300];
  snprintf(dir, sizeof(dir), "%s/dry", wt_tmpdir());
  snprintf(var, sizeof(var), "HERALD_EMAIL_OUTBOX_DIR=%s", dir);
  const char *env[] = {"HERALD_EMAIL_PROVIDER=file", var, NULL};
  char *out = NULL;
  assert_int_equal(wt_run(HERALD_EMAIL_BIN, words("--dry-run"), env, &out, 30), 0);
  assert_non_null(strstr(out, ids[0]));
  assert_non_null(strstr(out, ids[1]));
  assert_non_null(strstr(out, "subject \"Dry\""));
  assert_non_null(strstr(out, "nothing was sent or changed"));
  free(out);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'queued' AND attempts = 0", ids), 2);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[])", ids), 0);
  assert_int_equal(wt_llen("herald:q:{email}"), 2);
  assert_int_equal(count_files(dir), 0);
  wt_free_ids(ids);
}

static void test_max_jobs(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 5};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  char dir[256], var[300];
  snprintf(dir, sizeof(dir), "%s/max", wt_tmpdir());
  snprintf(var, sizeof(var), "HERALD_EMAIL_OUTBOX_DIR=%s", dir);
  const char *env[] = {"HERALD_EMAIL_PROVIDER=file", var, NULL};
  assert_int_equal(wt_run(HERALD_EMAIL_BIN, words("--max-jobs 3 -c 2"), env, NULL, 30), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids), 3);
  assert_int_equal(wt_llen("herald:q:{email}"), 2);
  assert_int_equal(wt_processing("email"), 0);
  assert_int_equal(count_files(dir), 3);
  wt_free_ids(ids);
}

static void test_stats_and_metrics(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 3};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  char *out = NULL;
  assert_int_equal(wt_run(HERALD_EMAIL_BIN, words("stats"), NULL, &out, 10), 0);
  assert_non_null(strstr(out, "ready       3\n"));
  assert_non_null(strstr(out, "processing  0\n"));
  assert_non_null(strstr(out, " queued=3"));
  assert_non_null(strstr(out, "oldest      queued "));
  free(out);
  assert_int_equal(wt_run(HERALD_EMAIL_BIN, words("stats --json"), NULL, &out, 10), 0);
  json_error_t jerr;
  json_t *stats = json_loads(out, 0, &jerr);
  if (stats == NULL) {
    fail_msg("stats --json printed no JSON (%s): %s", jerr.text, out);
  }
  assert_string_equal(json_string_value(json_object_get(stats, "queue")), "email");
  json_t *redis = json_object_get(stats, "redis");
  assert_int_equal(json_integer_value(json_object_get(redis, "ready")), 3);
  assert_int_equal(json_integer_value(json_object_get(redis, "processing")), 0);
  assert_int_equal(json_integer_value(json_object_get(redis, "dead")), 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(stats, "postgresql"),
                                                      "queued")), 3);
  assert_true(json_is_integer(json_object_get(stats, "oldest_queued_seconds")));
  json_decref(stats);
  free(out);
  assert_int_equal(wt_run(HERALD_EMAIL_BIN, words("stats --json extra"), NULL, &out, 10), 2);
  free(out);
  char dir[256], var[300], port[16], url[96];
  snprintf(dir, sizeof(dir), "%s/metrics", wt_tmpdir());
  snprintf(var, sizeof(var), "HERALD_EMAIL_OUTBOX_DIR=%s", dir);
  snprintf(port, sizeof(port), "%d", th_free_port());
  const char *env[] = {"HERALD_EMAIL_PROVIDER=file", var, "HERALD_WORKER_BLOCK_MS=200", NULL};
  const char *args[] = {"--metrics-port", port, NULL};
  struct wt_proc w;
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, env);
  assert_true(wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids, 3, 20));
  snprintf(url, sizeof(url), "http://127.0.0.1:%s/metrics", port);
  char *body = NULL;
  assert_int_equal(th_http_text(url, &body), 200);
  if (strstr(body, "list=\"ready\"} 0\n") == NULL) { /* depths are sampled every second */
    free(body);
    wt_sleep_ms(1500);
    assert_int_equal(th_http_text(url, &body), 200);
  }
  assert_non_null(strstr(body, "herald_worker_jobs_total{queue=\"email\",outcome=\"sent\"} 3\n"));
  assert_non_null(strstr(body, "herald_worker_queue_depth{queue=\"email\",list=\"ready\"} 0\n"));
  assert_non_null(strstr(body, "herald_worker_in_flight{queue=\"email\"} 0\n"));
  assert_non_null(strstr(body, "herald_worker_send_duration_seconds_count{queue=\"email\"} 3\n"));
  free(body);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 10), 0);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_usage_errors),
    cmocka_unit_test(test_help_and_version),
    cmocka_unit_test(test_bad_configuration),
    cmocka_unit_test(test_bad_provider_configuration),
    cmocka_unit_test_setup(test_dry_run, before),
    cmocka_unit_test_setup(test_max_jobs, before),
    cmocka_unit_test_setup(test_stats_and_metrics, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests: the configuration table, defaults, bounds and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/config.h"

static int clear_env(void **state) {
  (void)state;
  for (const struct h_config_option *o = h_config_options(); o->env != NULL; o++) {
    unsetenv(o->env);
  }
  unsetenv("HERALD_JWT_SECRET_FILE");
  return 0;
}

static void expect_error(const char *var, const char *value, const char *fragment) {
  struct h_config cfg;
  char *error = NULL;
  setenv(var, value, 1);
  assert_int_equal(h_config_load(&cfg, &error), H_ERR_INVALID);
  assert_non_null(error);
  if (strstr(error, var) == NULL || strstr(error, fragment) == NULL) {
    fail_msg("error '%s' does not name %s / '%s'", error, var, fragment);
  }
  free(error);
  unsetenv(var);
}

static void test_defaults(void **state) {
  (void)state;
  struct h_config cfg;
  char *error = NULL;
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_null(error);
  assert_int_equal(cfg.http_port, 8080);
  /* 0, the default: twice the CPUs online, 4 to 64 */
  assert_int_equal(cfg.http_threads, h_config_auto_http_threads(sysconf(_SC_NPROCESSORS_ONLN)));
  assert_true(cfg.http_threads >= 4 && cfg.http_threads <= 64);
  assert_int_equal(cfg.http_offload_threads, 16);
  assert_int_equal(cfg.db_pool_size, 16); /* follows the thread pools, up to 16 */
  assert_int_equal(cfg.user_cache_ms, 10000);
  assert_int_equal(cfg.probe_threads, 2);
  assert_string_equal(cfg.database_listen_url, "");
  assert_string_equal(cfg.http_mode, "epoll");
  assert_string_equal(cfg.log_level, "info");
  assert_false(cfg.hsts);
  assert_int_equal(cfg.group_commit_threads, 1);
  assert_int_equal(cfg.rate_limit_lease, 64);
  h_config_free(&cfg);
}

static void test_auto_http_threads(void **state) {
  (void)state;
  const long cpus[] = {-1, 0, 1, 2, 3, 8, 31, 32, 33, 1000};
  const int want[] = {4, 4, 4, 4, 6, 16, 62, 64, 64, 64};
  for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
    assert_int_equal(h_config_auto_http_threads(cpus[i]), want[i]);
  }
  struct h_config cfg;
  char *error = NULL;
  setenv("HERALD_HTTP_THREADS", "0", 1); /* named: the same as unset */
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.http_threads, h_config_auto_http_threads(sysconf(_SC_NPROCESSORS_ONLN)));
  h_config_free(&cfg);
  setenv("HERALD_HTTP_THREADS", "2", 1); /* a set size is kept, the smallest allowed */
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.http_threads, 2);
  h_config_free(&cfg);
  unsetenv("HERALD_HTTP_THREADS");
}

/* HERALD_DB_POOL_SIZE=0 follows HERALD_HTTP_THREADS + HERALD_HTTP_OFFLOAD_THREADS up to
 * 16; a set size is kept. */
static void test_pool_follows_threads(void **state) {
  (void)state;
  struct h_config cfg;
  char *error = NULL;
  setenv("HERALD_HTTP_THREADS", "4", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.db_pool_size, 16); /* 4 + the 16 offload threads, at most 16 */
  h_config_free(&cfg);
  setenv("HERALD_HTTP_OFFLOAD_THREADS", "4", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.db_pool_size, 8);
  h_config_free(&cfg);
  setenv("HERALD_HTTP_OFFLOAD_THREADS", "0", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.db_pool_size, 4);
  h_config_free(&cfg);
  unsetenv("HERALD_HTTP_OFFLOAD_THREADS");
  setenv("HERALD_HTTP_THREADS", "200", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.db_pool_size, 16);
  h_config_free(&cfg);
  setenv("HERALD_DB_POOL_SIZE", "40", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.db_pool_size, 40);
  h_config_free(&cfg);
  unsetenv("HERALD_DB_POOL_SIZE");
  unsetenv("HERALD_HTTP_THREADS");
}

static void test_values(void **state) {
  (void)state;
  struct h_config cfg;
  char *error = NULL;
  setenv("HERALD_HTTP_PORT", "9090", 1);
  setenv("HERALD_HSTS", "yes", 1);
  setenv("HERALD_LOG_LEVEL", "debug", 1);
  setenv("HERALD_DB_POOL_SIZE", "4", 1);
  setenv("HERALD_DEMO_DIR", "/tmp", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(cfg.http_port, 9090);
  assert_true(cfg.hsts);
  assert_string_equal(cfg.log_level, "debug");
  assert_int_equal(cfg.db_pool_size, 4);
  assert_string_equal(cfg.demo_dir, "/tmp");
  h_config_free(&cfg);
  unsetenv("HERALD_DEMO_DIR");
}

static void test_bad_values(void **state) {
  (void)state;
  expect_error("HERALD_HTTP_PORT", "70000", "out of range");
  expect_error("HERALD_HTTP_PORT", "80x", "not an integer");
  expect_error("HERALD_HTTP_PORT", "", "not an integer");
  expect_error("HERALD_HTTP_PORT", " 80", "not an integer");
  expect_error("HERALD_HTTP_THREADS", "1", "out of range");
  expect_error("HERALD_HTTP_THREADS", "1", "pool of one");
  expect_error("HERALD_HTTP_THREADS", "-1", "out of range");
  expect_error("HERALD_HTTP_THREADS", "1025", "out of range");
  expect_error("HERALD_HTTP_THREADS", "auto", "not an integer");
  expect_error("HERALD_HTTP_OFFLOAD_THREADS", "-1", "out of range");
  expect_error("HERALD_HTTP_OFFLOAD_THREADS", "257", "out of range");
  expect_error("HERALD_HTTP_OFFLOAD_THREADS", "four", "not an integer");
  expect_error("HERALD_HSTS", "maybe", "not a boolean");
  expect_error("HERALD_LOG_LEVEL", "loud", "not one of");
  expect_error("HERALD_HTTP_MODE", "poll", "not one of");
  expect_error("HERALD_JWT_SECRET", "short", "at least 32 bytes");
  expect_error("HERALD_JWT_SECRET_FILE", "/nonexistent/secret", "cannot read");
  /* ordered providers and their breakers */
  expect_error("HERALD_EMAIL_PROVIDERS", "smtp,postmark", "'postmark' is not one of");
  expect_error("HERALD_EMAIL_PROVIDERS", "smtp,smtp", "listed twice");
  expect_error("HERALD_EMAIL_PROVIDERS", "smtp,", "ends with a comma");
  expect_error("HERALD_EMAIL_PROVIDERS", ",smtp", "empty");
  expect_error("HERALD_EMAIL_PROVIDERS", "smtp,,sendgrid", "empty");
  expect_error("HERALD_EMAIL_PROVIDERS", "smtp, sendgrid", "' sendgrid' is not one of");
  expect_error("HERALD_EMAIL_PROVIDERS", "SMTP", "not one of");
  expect_error("HERALD_SMS_PROVIDERS", "twilio,sendgrid", "'sendgrid' is not one of");
  expect_error("HERALD_SMS_PROVIDERS", "vonage,twilio,vonage", "listed twice");
  expect_error("HERALD_BREAKER_FAILURES", "0", "out of range");
  expect_error("HERALD_BREAKER_ERROR_RATE", "101", "out of range");
  expect_error("HERALD_BREAKER_MIN_CALLS", "0", "out of range");
  expect_error("HERALD_BREAKER_WINDOW_S", "-1", "out of range");
  expect_error("HERALD_BREAKER_COOLDOWN_MS", "10", "out of range");
  expect_error("HERALD_BREAKER_COOLDOWN_MS", "1s", "not an integer");
  expect_error("HERALD_PROVIDER_WEBHOOK_TOLERANCE_S", "0", "out of range");
  expect_error("HERALD_RATE_LIMIT_LEASE", "0", "out of range");
  expect_error("HERALD_RATE_LIMIT_LEASE", "10001", "out of range");
  expect_error("HERALD_RATE_LIMIT_LEASE", "64k", "not an integer");
  expect_error("HERALD_PROBE_THREADS", "0", "out of range");
  expect_error("HERALD_PROBE_THREADS", "65", "out of range");
  expect_error("HERALD_PROBE_THREADS", "four", "not an integer");
  expect_error("HERALD_USER_CACHE_MS", "-1", "out of range");
  expect_error("HERALD_USER_CACHE_MS", "600001", "out of range");
  expect_error("HERALD_USER_CACHE_MS", "10s", "not an integer");
  expect_error("HERALD_FEED_CACHE_MS", "-1", "out of range");
  expect_error("HERALD_FEED_CACHE_MS", "600001", "out of range");
  expect_error("HERALD_FEED_CACHE_MS", "ten", "not an integer");
  expect_error("HERALD_WORKER_IN_FLIGHT", "0", "out of range");
  expect_error("HERALD_WORKER_IN_FLIGHT", "101", "out of range");
  expect_error("HERALD_WORKER_IN_FLIGHT", "eight", "not an integer");
  expect_error("HERALD_GROUP_COMMIT_THREADS", "0", "out of range");
  expect_error("HERALD_SMS_HELP_TEXT", "", "1-320 characters");
  char long_help[400];
  memset(long_help, 'h', sizeof(long_help) - 1);
  long_help[sizeof(long_help) - 1] = '\0';
  expect_error("HERALD_SMS_HELP_TEXT", long_help, "1-320 characters");
  expect_error("HERALD_DEMO_DIR", "var/demo", "absolute path of an existing folder");
  expect_error("HERALD_DEMO_DIR", "/nonexistent/demo", "absolute path of an existing folder");
  expect_error("HERALD_DEMO_DIR", "/etc/hostname", "absolute path of an existing folder");
}

static void test_provider_lists(void **state) {
  (void)state;
  assert_null(h_config_list_check("V", "", "a|b", 2)); /* empty: no list */
  assert_null(h_config_list_check("V", "a,b", "a|b", 2));
  char *e = h_config_list_check("V", "a,b,a", "a|b", 4);
  assert_non_null(strstr(e, "'a' is listed twice"));
  free(e);
  e = h_config_list_check("V", "a,b", "a|b|c", 1);
  assert_non_null(strstr(e, "at most 1 entries"));
  free(e);
  struct h_config cfg;
  char *error = NULL;
  setenv("HERALD_EMAIL_PROVIDERS", "smtp,sendgrid,mailgun,file", 1);
  setenv("HERALD_SMS_PROVIDERS", "twilio,vonage", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_string_equal(cfg.email_providers, "smtp,sendgrid,mailgun,file");
  assert_int_equal(cfg.breaker_failures, 5);
  assert_int_equal(cfg.breaker_cooldown_ms, 30000);
  h_config_free(&cfg);
  unsetenv("HERALD_EMAIL_PROVIDERS");
  unsetenv("HERALD_SMS_PROVIDERS");
}

static void test_secret_from_file(void **state) {
  (void)state;
  char path[] = "/tmp/herald-secret-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("0123456789abcdef0123456789abcdef-from-file\n", f);
  fclose(f);
  setenv("HERALD_JWT_SECRET_FILE", path, 1);
  struct h_config cfg;
  char *error = NULL;
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_string_equal(cfg.jwt_secret, "0123456789abcdef0123456789abcdef-from-file");
  h_config_free(&cfg);
  unlink(path);
  unsetenv("HERALD_JWT_SECRET_FILE");
}

static void test_markdown_lists_every_variable(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  h_config_print_markdown(out);
  fclose(out);
  for (const struct h_config_option *o = h_config_options(); o->env != NULL; o++) {
    assert_non_null(strstr(text, o->env));
  }
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_defaults, clear_env),
    cmocka_unit_test_setup(test_auto_http_threads, clear_env),
    cmocka_unit_test_setup(test_pool_follows_threads, clear_env),
    cmocka_unit_test_setup(test_values, clear_env),
    cmocka_unit_test_setup(test_bad_values, clear_env),
    cmocka_unit_test_setup(test_provider_lists, clear_env),
    cmocka_unit_test_setup(test_secret_from_file, clear_env),
    cmocka_unit_test_setup(test_markdown_lists_every_variable, clear_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

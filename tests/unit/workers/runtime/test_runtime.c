/* Unit: the worker runtime's pure parts: retry backoff, durations and the command
 * line (every flag, every bad usage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "backoff.h"
#include "breaker.h"
#include "rt.h"

static void test_backoff(void **state) {
  (void)state;
  assert_int_equal(h_backoff_ceiling_ms(1, 1000, 60000), 1000);
  assert_int_equal(h_backoff_ceiling_ms(2, 1000, 60000), 2000);
  assert_int_equal(h_backoff_ceiling_ms(6, 1000, 60000), 32000);
  assert_int_equal(h_backoff_ceiling_ms(7, 1000, 60000), 60000);
  assert_int_equal(h_backoff_ceiling_ms(1000, 1000, 60000), 60000); /* no overflow */
  for (int attempt = 1; attempt <= 10; attempt++) {
    long long d = h_backoff_ceiling_ms(attempt, 500, 20000);
    double rs[] = {0.0, 0.25, 0.5, 0.999999};
    for (size_t i = 0; i < 4; i++) {
      long long v = h_backoff_ms(attempt, 500, 20000, rs[i]);
      assert_true(v >= d / 2 && v <= d);
    }
  }
  assert_int_equal(h_retry_delay_ms(1, 1000, 60000, 30, 0.5), 30000); /* Retry-After wins */
  assert_true(h_retry_delay_ms(3, 1000, 60000, 1, 0.0) >= 2000);      /* ...but never earlier */
  assert_int_equal(h_retry_delay_ms(1, 1000, 60000, 86400 * 30, 0.0), 7LL * 86400 * 1000);
}

static void test_rng(void **state) {
  (void)state;
  uint64_t s = 42;
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    double u = h_rng_unit(&s);
    assert_true(u >= 0.0 && u < 1.0);
    sum += u;
  }
  assert_true(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

static void test_duration(void **state) {
  (void)state;
  assert_int_equal(h_parse_duration("90"), 90);
  assert_int_equal(h_parse_duration("90s"), 90);
  assert_int_equal(h_parse_duration("15m"), 900);
  assert_int_equal(h_parse_duration("2h"), 7200);
  assert_int_equal(h_parse_duration("7d"), 604800);
  const char *bad[] = {"", "x", "5x", "-5", "1.5h", "h", "5 m", "99999999999d", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_int_equal(h_parse_duration(bad[i]), -1);
  }
}

/* Parses a space-separated command line. */
static int parse(const char *line, struct h_worker_opts *o) {
  static char buf[512];
  char *argv[32];
  int argc = 0;
  snprintf(buf, sizeof(buf), "herald-email %s", line);
  for (char *tok = strtok(buf, " "); tok != NULL && argc < 31; tok = strtok(NULL, " ")) {
    argv[argc++] = tok;
  }
  argv[argc] = NULL;
  char err[256];
  return h_cli_parse(argc, argv, o, err, sizeof(err));
}

static void test_cli_ok(void **state) {
  (void)state;
  struct h_worker_opts o;
  assert_int_equal(parse("", &o), 0);
  assert_int_equal(o.cmd, H_CMD_RUN);
  assert_int_equal(o.metrics_port, -1);
  assert_int_equal(parse("-c 4 --once --max-jobs 10 --dry-run --log-level debug "
                         "--metrics-port 9100", &o), 0);
  assert_int_equal(o.concurrency, 4);
  assert_true(o.once && o.dry_run);
  assert_int_equal(o.max_jobs, 10);
  assert_string_equal(o.log_level, "debug");
  assert_int_equal(o.metrics_port, 9100);
  assert_int_equal(parse("--concurrency=8", &o), 0);
  assert_int_equal(o.concurrency, 8);
  assert_int_equal(parse("dlq list --limit 5", &o), 0);
  assert_int_equal(o.cmd, H_CMD_DLQ_LIST);
  assert_int_equal(o.limit, 5);
  assert_int_equal(parse("dlq replay --id 0b6b3a2e-3c4f-4d8e-9f00-000000000001", &o), 0);
  assert_int_equal(o.cmd, H_CMD_DLQ_REPLAY);
  assert_string_equal(o.replay_id, "0b6b3a2e-3c4f-4d8e-9f00-000000000001");
  assert_int_equal(parse("--log-level error dlq replay --all", &o), 0);
  assert_true(o.replay_all);
  assert_int_equal(parse("dlq purge --older-than 2h", &o), 0);
  assert_int_equal(o.cmd, H_CMD_DLQ_PURGE);
  assert_int_equal(o.older_than_s, 7200);
  assert_int_equal(parse("dlq purge", &o), 0);
  assert_int_equal(o.older_than_s, -1);
  assert_int_equal(parse("stats", &o), 0);
  assert_int_equal(o.cmd, H_CMD_STATS);
  assert_int_equal(parse("--help", &o), 0);
  assert_int_equal(o.cmd, H_CMD_HELP);
  assert_int_equal(parse("-V", &o), 0);
  assert_int_equal(o.cmd, H_CMD_VERSION);
}

static void test_cli_bad(void **state) {
  (void)state;
  const char *bad[] = {
    "--bogus", "-x", "--concurrency 0", "--concurrency 257", "-c x", "--concurrency",
    "--max-jobs 0", "--max-jobs -3", "--log-level loud", "--metrics-port 70000",
    "--metrics-port http", "dlq", "dlq frob", "dlq replay", "dlq replay --id a --all",
    "dlq list --older-than 1h", "dlq purge --older-than 5x", "dlq purge --id x",
    "dlq list --limit 0", "dlq list extra", "stats now", "frob", "--once frob", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    struct h_worker_opts o;
    if (parse(bad[i], &o) != 2) {
      fail_msg("'%s' was accepted", bad[i]);
    }
  }
}

static void test_provider_lists(void **state) {
  (void)state;
  char names[H_MAX_PROVIDERS][16];
  assert_int_equal(h_provider_list_split("smtp,sendgrid", names), 2);
  assert_string_equal(names[0], "smtp");
  assert_string_equal(names[1], "sendgrid");
  assert_int_equal(h_provider_list_split("file", names), 1);
  assert_int_equal(h_provider_list_split("", names), 0);
  assert_int_equal(h_provider_list_split("a,b,c,d,e", names), H_MAX_PROVIDERS); /* capped */
  assert_int_equal(h_breaker_parse("open"), H_BREAKER_OPEN);
  assert_int_equal(h_breaker_parse("half_open"), H_BREAKER_HALF_OPEN);
  assert_int_equal(h_breaker_parse("closed"), H_BREAKER_CLOSED);
  assert_int_equal(h_breaker_parse(NULL), H_BREAKER_CLOSED); /* no hash yet */
  assert_int_equal(h_breaker_parse("weird"), H_BREAKER_CLOSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_backoff), cmocka_unit_test(test_rng),
    cmocka_unit_test(test_duration), cmocka_unit_test(test_cli_ok),
    cmocka_unit_test(test_cli_bad), cmocka_unit_test(test_provider_lists),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: the flood rules (common/core/flood.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/flood.h"

static struct h_config cfg_of(const char *windows, const char *exempt, const char *throttle,
                              const char *caps) {
  struct h_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.digest_windows = (char *)windows;
  cfg.flood_exempt_categories = (char *)exempt;
  cfg.throttle_per_hour = (char *)throttle;
  cfg.daily_caps = (char *)caps;
  return cfg;
}

static void test_rules(void **state) {
  (void)state;
  struct h_config cfg = cfg_of(" comments = 600 ,likes=60", "security, account", "email=20,sms=5",
                               "sms=1000");
  struct h_flood_rules r;
  char *error = NULL;
  assert_int_equal(h_flood_parse(&cfg, &r, &error), H_OK);
  assert_int_equal(h_flood_digest_window(&r, "comments", "normal"), 600);
  assert_int_equal(h_flood_digest_window(&r, "likes", "low"), 60);
  assert_int_equal(h_flood_digest_window(&r, "comments", "critical"), 0); /* never waits */
  assert_int_equal(h_flood_digest_window(&r, "billing", "normal"), 0);
  assert_true(h_flood_exempt(&r, "security", "normal"));
  assert_true(h_flood_exempt(&r, "news", "critical"));
  assert_false(h_flood_exempt(&r, "news", "high"));
  assert_int_equal(h_flood_throttle(&r, "email"), 20);
  assert_int_equal(h_flood_throttle(&r, "push"), 0);
  assert_int_equal(h_flood_cap(&r, "sms"), 1000);
  assert_int_equal(h_flood_cap(&r, "email"), 0);
  h_flood_free(&r);
  /* an exempt category with a window still never waits */
  cfg = cfg_of("security=60", "security", "", "");
  assert_int_equal(h_flood_parse(&cfg, &r, &error), H_OK);
  assert_int_equal(h_flood_digest_window(&r, "security", "normal"), 0);
  h_flood_free(&r);
  assert_int_equal(h_flood_digest_window(NULL, "comments", "normal"), 0);
}

static void test_bad_values(void **state) {
  (void)state;
  const char *cases[][5] = {
    {"comments", "", "", "", "HERALD_DIGEST_WINDOWS"},
    {"comments=0", "", "", "", "HERALD_DIGEST_WINDOWS"},
    {"comments=86401", "", "", "", "HERALD_DIGEST_WINDOWS"},
    {"com ments=5", "", "", "", "HERALD_DIGEST_WINDOWS"},
    {"comments=5x", "", "", "", "HERALD_DIGEST_WINDOWS"},
    {"", "bad category!", "", "", "HERALD_FLOOD_EXEMPT_CATEGORIES"},
    {"", "", "fax=3", "", "HERALD_THROTTLE_PER_HOUR"},
    {"", "", "in_app=3", "", "HERALD_THROTTLE_PER_HOUR"},
    {"", "", "email=-1", "", "HERALD_THROTTLE_PER_HOUR"},
    {"", "", "", "sms", "HERALD_DAILY_CAPS"},
    {"", "", "", "sms=1=2", "HERALD_DAILY_CAPS"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct h_config cfg = cfg_of(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
    struct h_flood_rules r;
    char *error = NULL;
    if (h_flood_parse(&cfg, &r, &error) != H_ERR_INVALID || error == NULL ||
        strstr(error, cases[i][4]) == NULL) {
      fail_msg("case %zu accepted or misnamed: %s", i, error ? error : "(none)");
    }
    free(error);
    h_flood_free(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rules),
    cmocka_unit_test(test_bad_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

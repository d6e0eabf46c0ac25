/* Unit tests: preferences and the choice of channels and initial delivery states
 * (notifications/delivery_plan.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>

#include "notifications/delivery_plan.h"

static json_t *J(const char *text) { return json_loads(text, 0, NULL); }

static void test_prefs_allow(void **state) {
  (void)state;
  json_t *p = J("{\"channels\":{\"email\":false,\"sms\":true},"
                "\"categories\":{\"security\":{\"email\":true},\"promo\":{\"sms\":false}}}");
  assert_false(h_prefs_allow(p, "billing", H_CHANNEL_EMAIL));
  assert_true(h_prefs_allow(p, "security", H_CHANNEL_EMAIL)); /* category overrides */
  assert_true(h_prefs_allow(p, "billing", H_CHANNEL_SMS));
  assert_false(h_prefs_allow(p, "promo", H_CHANNEL_SMS));
  assert_true(h_prefs_allow(p, "promo", H_CHANNEL_PUSH));     /* unset: on */
  assert_true(h_prefs_allow(NULL, "any", H_CHANNEL_EMAIL));
  json_decref(p);
}

static const struct h_planned_delivery *find(const struct h_planned_delivery *plan, int n,
                                             enum h_channel c) {
  for (int i = 0; i < n; i++) {
    if (plan[i].channel == c) {
      return &plan[i];
    }
  }
  fail_msg("no planned delivery for channel %d", (int)c);
  abort(); /* not reached: fail_msg does not return */
}

static void test_plan(void **state) {
  (void)state;
  json_t *p = J("{\"channels\":{\"email\":false}}");
  struct h_recipient r = {.has_phone = false, .active_devices = 0, .prefs = p};
  struct h_planned_delivery plan[H_CHANNEL_COUNT];
  int n = h_plan_deliveries(h_plan_default_channels(&r), false, false, "billing", &r, plan);
  assert_int_equal(n, 4); /* no webhook endpoint: no webhook delivery at all */
  assert_string_equal(find(plan, n, H_CHANNEL_IN_APP)->status, "sent");
  assert_string_equal(find(plan, n, H_CHANNEL_EMAIL)->reason, "channel_disabled");
  assert_string_equal(find(plan, n, H_CHANNEL_SMS)->reason, "no_phone");
  assert_string_equal(find(plan, n, H_CHANNEL_PUSH)->reason, "no_device");
  assert_string_equal(find(plan, n, H_CHANNEL_PUSH)->status, "skipped");
  r.has_phone = true;
  r.active_devices = 2;
  n = h_plan_deliveries(H_CHANNEL_BIT(H_CHANNEL_SMS) | H_CHANNEL_BIT(H_CHANNEL_PUSH), false,
                        false, "billing", &r, plan);
  assert_int_equal(n, 2);
  assert_string_equal(plan[0].status, "queued");
  assert_true(plan[0].quiet_candidate);
  n = h_plan_deliveries(H_CHANNELS_ALL, true, true, "billing", &r, plan);
  assert_string_equal(find(plan, n, H_CHANNEL_IN_APP)->status, "scheduled");
  assert_string_equal(find(plan, n, H_CHANNEL_SMS)->status, "scheduled");
  assert_false(find(plan, n, H_CHANNEL_SMS)->quiet_candidate); /* critical */
  assert_false(find(plan, n, H_CHANNEL_IN_APP)->quiet_candidate);
  assert_null(find(plan, n, H_CHANNEL_SMS)->reason);
  json_decref(p);
}

static void test_plan_webhook(void **state) {
  (void)state;
  struct h_recipient r = {.has_phone = true, .active_devices = 1, .webhook_endpoints = 0};
  struct h_planned_delivery plan[H_CHANNEL_COUNT];
  /* asked for by name without an endpoint: skipped */
  int n = h_plan_deliveries(H_CHANNEL_BIT(H_CHANNEL_WEBHOOK), false, false, "billing", &r, plan);
  assert_int_equal(n, 1);
  assert_string_equal(plan[0].status, "skipped");
  assert_string_equal(plan[0].reason, "no_endpoint");
  /* with an endpoint, the default channels take it, queued and subject to quiet hours */
  r.webhook_endpoints = 2;
  assert_int_equal(h_plan_default_channels(&r), H_CHANNELS_ALL);
  n = h_plan_deliveries(h_plan_default_channels(&r), false, false, "billing", &r, plan);
  assert_int_equal(n, 5);
  assert_string_equal(find(plan, n, H_CHANNEL_WEBHOOK)->status, "queued");
  assert_true(find(plan, n, H_CHANNEL_WEBHOOK)->quiet_candidate);
  assert_string_equal(h_channel_name(H_CHANNEL_WEBHOOK), "webhook");
  assert_int_equal(h_channel_parse("webhook"), H_CHANNEL_WEBHOOK);
  /* the user turned the channel off */
  json_t *p = J("{\"categories\":{\"billing\":{\"webhook\":false}}}");
  r.prefs = p;
  n = h_plan_deliveries(H_CHANNEL_BIT(H_CHANNEL_WEBHOOK), false, false, "billing", &r, plan);
  assert_string_equal(plan[0].reason, "channel_disabled");
  json_decref(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prefs_allow),
    cmocka_unit_test(test_plan),
    cmocka_unit_test(test_plan_webhook),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

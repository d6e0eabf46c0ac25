/* Unit tests: a broadcast's stored request, written and read back
 * (notifications/broadcast_service.c), and the check that refuses a row the API did not
 * write: the fan-out fails such a broadcast rather than send from missing fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "notifications/broadcast_service.h"
#include "notifications/delivery_plan.h"
#include "notifications/notification_input.h"

static void test_priority_valid(void **state) {
  (void)state;
  assert_true(h_priority_valid("low"));
  assert_true(h_priority_valid("critical"));
  assert_false(h_priority_valid("urgent"));
  assert_false(h_priority_valid(""));
  assert_false(h_priority_valid(NULL));
}

static void test_round_trip(void **state) {
  (void)state;
  struct h_notify_request in;
  memset(&in, 0, sizeof(in));
  in.category = "billing";
  in.priority = "high";
  in.title = "Invoice";
  in.body = "Your invoice is ready.";
  in.channels = H_CHANNEL_BIT(H_CHANNEL_IN_APP) | H_CHANNEL_BIT(H_CHANNEL_EMAIL);
  json_t *stored = h_broadcast_request_json(&in);
  struct h_notify_request out;
  assert_true(h_broadcast_request_read(stored, &out));
  assert_string_equal(out.category, "billing");
  assert_string_equal(out.priority, "high");
  assert_string_equal(out.title, "Invoice");
  assert_string_equal(out.body, "Your invoice is ready.");
  assert_null(out.template_key);
  assert_int_equal(out.channels, in.channels);
  json_decref(stored);
}

/* Each of these lacks something a send needs; reading any of them must say so. */
static void test_malformed_rows(void **state) {
  (void)state;
  static const char *const rows[] = {
    "{}",
    "{\"priority\":\"normal\",\"body\":\"b\"}",                       /* no category */
    "{\"category\":\"has space\",\"priority\":\"normal\",\"body\":\"b\"}",
    "{\"category\":\"c\",\"body\":\"b\"}",                            /* no priority */
    "{\"category\":\"c\",\"priority\":\"urgent\",\"body\":\"b\"}",
    "{\"category\":\"c\",\"priority\":\"normal\"}",                   /* no content */
    "{\"category\":\"c\",\"priority\":\"normal\",\"body\":\"b\",\"channels\":[\"fax\"]}",
    "{\"category\":7,\"priority\":\"normal\",\"body\":\"b\"}",
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_t *stored = json_loads(rows[i], 0, NULL);
    assert_non_null(stored);
    struct h_notify_request out;
    if (h_broadcast_request_read(stored, &out)) {
      fail_msg("accepted %s", rows[i]);
    }
    json_decref(stored);
  }
  json_t *tpl = json_loads("{\"category\":\"c\",\"priority\":\"low\",\"template\":\"welcome\"}",
                           0, NULL);
  struct h_notify_request out;
  assert_true(h_broadcast_request_read(tpl, &out));
  assert_string_equal(out.template_key, "welcome");
  json_decref(tpl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_priority_valid),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_malformed_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: Idempotency-Key request hashing, the choice of channels and initial delivery
 * states, and the parsing of send_at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>

#include "notifications/delivery_plan.h"
#include "store/idempotency.h"
#include "notifications/notification_input.h"
#include "http/routes.h"

static json_t *J(const char *text) { return json_loads(text, 0, NULL); }

static void test_request_hash(void **state) {
  (void)state;
  json_t *a = J("{\"user_id\":\"u\",\"data\":{\"x\":1,\"y\":[1,2]},\"category\":\"c\"}");
  json_t *b = J("{ \"category\" : \"c\", \"data\": {\"y\":[1,2], \"x\":1}, \"user_id\":\"u\" }");
  json_t *c = J("{\"user_id\":\"u\",\"data\":{\"x\":2,\"y\":[1,2]},\"category\":\"c\"}");
  json_t *d = J("{\"user_id\":\"u\",\"data\":{\"x\":1,\"y\":[2,1]},\"category\":\"c\"}");
  char ha[65], hb[65], hc[65], hd[65], hp[65], hm[65], hn[65];
  h_idem_request_hash("POST", "/api/v1/notifications", a, ha);
  h_idem_request_hash("POST", "/api/v1/notifications", b, hb);
  h_idem_request_hash("POST", "/api/v1/notifications", c, hc);
  h_idem_request_hash("POST", "/api/v1/notifications", d, hd);
  h_idem_request_hash("POST", "/api/v1/announcements", a, hp);
  h_idem_request_hash("PUT", "/api/v1/notifications", a, hm);
  h_idem_request_hash("POST", "/api/v1/notifications", NULL, hn);
  assert_int_equal(strlen(ha), 64);
  assert_string_equal(ha, hb);     /* key order and whitespace do not matter */
  assert_string_not_equal(ha, hc); /* values do */
  assert_string_not_equal(ha, hd); /* array order does */
  assert_string_not_equal(ha, hp); /* the path does */
  assert_string_not_equal(ha, hm); /* the method does */
  assert_string_not_equal(ha, hn);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(d);
}

static void test_key_valid(void **state) {
  (void)state;
  char long_key[300];
  memset(long_key, 'k', sizeof(long_key));
  long_key[255] = '\0';
  assert_true(h_idem_key_valid("order-123_ABC.x:y"));
  assert_true(h_idem_key_valid(long_key));
  long_key[255] = 'k';
  long_key[256] = '\0';
  assert_false(h_idem_key_valid(long_key));
  assert_false(h_idem_key_valid(""));
  assert_false(h_idem_key_valid("has space"));
  assert_false(h_idem_key_valid("tab\t"));
  assert_false(h_idem_key_valid("caf\xc3\xa9"));
  assert_false(h_idem_key_valid(NULL));
}

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
  int n = h_plan_deliveries(H_CHANNELS_ALL, false, false, "billing", &r, plan);
  assert_int_equal(n, 4);
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

static void test_rfc3339(void **state) {
  (void)state;
  time_t t = 0;
  assert_true(h_rfc3339_parse("2027-01-31T12:00:00Z", &t));
  assert_int_equal(t, 1801396800);
  assert_true(h_rfc3339_parse("2027-01-31T14:00:00.250+02:00", &t));
  assert_int_equal(t, 1801396800);
  assert_true(h_rfc3339_parse("2027-01-31T07:00:00-05:00", &t));
  assert_int_equal(t, 1801396800);
  assert_false(h_rfc3339_parse("2027-01-31 12:00:00Z", &t));
  assert_false(h_rfc3339_parse("2027-01-31T12:00:00", &t));
  assert_false(h_rfc3339_parse("tomorrow", &t));
  assert_false(h_rfc3339_parse("2027-01-31T12:00:00+25:00", &t));
  assert_true(h_category_valid("billing.v2:eu-1"));
  assert_false(h_category_valid("has space"));
  assert_false(h_category_valid(""));
}

/* Literal siblings of a ":id" route own their path: dispatch and 405 Allow follow them. */
static void test_route_specificity(void **state) {
  (void)state;
  assert_int_equal(h_route_specificity("/api/v1/notifications/:id", "/api/v1/notifications/x"), 3);
  assert_int_equal(h_route_specificity("/api/v1/notifications/unread-count",
                                       "/api/v1/notifications/unread-count"), 4);
  assert_int_equal(h_route_specificity("/api/v1/notifications/:id", "/api/v1/devices/x"), -1);
  const struct h_route *by_id = NULL, *count = NULL;
  for (const struct h_route *r = h_routes(); r->method != NULL; r++) {
    if (strcmp(r->method, "GET") == 0 && strcmp(r->path, "/api/v1/notifications/:id") == 0) {
      by_id = r;
    }
    if (strcmp(r->path, "/api/v1/notifications/unread-count") == 0) {
      count = r;
    }
  }
  assert_non_null(by_id);
  assert_non_null(count);
  assert_ptr_equal(h_route_find("GET", "/api/v1/notifications/unread-count", false), count);
  assert_ptr_equal(h_route_find("GET", "/api/v1/notifications/0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f",
                                false), by_id);
  char allow[128];
  h_route_allowed_methods("/api/v1/notifications/unread-count", allow, sizeof(allow));
  assert_string_equal(allow, "GET");
  h_route_allowed_methods("/api/v1/notifications/bulk", allow, sizeof(allow));
  assert_string_equal(allow, "POST");
  h_route_allowed_methods("/api/v1/notifications/42", allow, sizeof(allow));
  assert_string_equal(allow, "GET, DELETE");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_request_hash),
    cmocka_unit_test(test_key_valid),
    cmocka_unit_test(test_prefs_allow),
    cmocka_unit_test(test_plan),
    cmocka_unit_test(test_rfc3339),
    cmocka_unit_test(test_route_specificity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

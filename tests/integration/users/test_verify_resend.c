/* Integration: POST /api/v1/auth/verify-email/resend (a new link ends the older ones, rate
 * limited per user, 409 once verified, 401 without a token) and the default templates
 * seeded by migration (six keys, English and German, e-mail/SMS/push/in-app). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_RATE_LIMIT_VERIFY_RESEND", "2", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

static void test_resend(void **state) {
  (void)state;
  char uid[37];
  char *email = th_unique_email("resend");
  char *token = th_register(&srv, email, uid, NULL);
  const char *links = "SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                      " AND template_key = 'email_verification'";
  const char *live = "SELECT count(*) FROM one_time_tokens WHERE user_id = $1::uuid"
                     " AND kind = 'email_verification' AND used_at IS NULL"
                     " AND expires_at > now()";
  assert_int_equal(th_sql_long(links, uid), 1);
  struct th_response r;
  th_call(&srv, token, "POST", "/api/v1/auth/verify-email/resend", NULL, NULL, &r);
  assert_int_equal(r.status, 202);
  th_assert_json_subset("{\"object\":\"email_verification\",\"status\":\"sent\"}", r.json);
  th_response_free(&r);
  assert_int_equal(th_sql_long(links, uid), 2);
  assert_int_equal(th_sql_long(live, uid), 1); /* the first link ended */
  char *newest = th_sql_text("SELECT d.id::text FROM deliveries d JOIN notifications n ON"
                             " n.id = d.notification_id WHERE n.user_id = $1::uuid"
                             " ORDER BY d.created_at DESC LIMIT 1", uid);
  assert_true(th_wait_list_has("herald:q:{email}", newest, 5));
  free(newest);
  th_call(&srv, token, "POST", "/api/v1/auth/verify-email/resend", NULL, NULL, &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
  /* HERALD_RATE_LIMIT_VERIFY_RESEND=2 per user */
  th_call(&srv, token, "POST", "/api/v1/auth/verify-email/resend", NULL, NULL, &r);
  th_assert_error(&r, 429, "rate_limited");
  assert_non_null(strstr(r.headers, "Retry-After"));
  th_response_free(&r);
  assert_int_equal(th_sql_long(links, uid), 3);
  th_call(&srv, NULL, "POST", "/api/v1/auth/verify-email/resend", NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  /* once verified: 409 */
  char uid2[37];
  char *email2 = th_unique_email("resend");
  char *token2 = th_register(&srv, email2, uid2, NULL);
  free(th_sql_text("UPDATE users SET email_verified_at = now() WHERE id = $1::uuid"
                   " RETURNING 1", uid2));
  th_call(&srv, token2, "POST", "/api/v1/auth/verify-email/resend", NULL, NULL, &r);
  th_assert_error(&r, 409, "email_already_verified");
  th_response_free(&r);
  free(token2);
  free(email2);
  free(token);
  free(email);
}

static void test_default_templates(void **state) {
  (void)state;
  const char *keys[] = {"welcome", "verify_email", "password_reset", "payment_receipt",
                        "payment_failed", "security_alert"};
  for (size_t i = 0; i < 6; i++) {
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/admin/templates/%s", keys[i]);
    struct th_response r;
    th_call(&srv, admin, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    const json_t *ch = json_object_get(r.json, "channels");
    const char *channels[] = {"email", "sms", "push", "in_app"};
    for (int c = 0; c < 4; c++) {
      assert_non_null(json_object_get(ch, channels[c]));
      assert_non_null(json_object_get(json_object_get(json_object_get(r.json, "locales"), "de"),
                                      channels[c]));
    }
    assert_non_null(json_object_get(json_object_get(ch, "email"), "html"));
    th_response_free(&r);
  }
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/admin/templates/password_reset/preview",
          "{\"locale\":\"de-AT\",\"data\":{\"action_url\":\"https://x.example/r\","
          "\"minutes\":30}}", NULL, &r);
  assert_int_equal(r.status, 200);
  const char *dump = r.body;
  assert_non_null(strstr(dump, "Passwort zur"));
  assert_non_null(strstr(dump, "https://x.example/r"));
  th_response_free(&r);
  th_call(&srv, admin, "POST", "/api/v1/admin/templates/payment_receipt/preview",
          "{\"data\":{\"amount_display\":\"15.00 EUR\",\"description\":\"Plan\","
          "\"receipt_number\":\"2026-000042\",\"payment_id\":\"pay_1\"}}", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "Receipt 2026-000042: 15.00 EUR"));
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resend),
    cmocka_unit_test(test_default_templates),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

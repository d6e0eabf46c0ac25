/* Integration: confirming, canceling, reading and listing payments; who may see
 * and change which payment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *alice, *bob, *admin;
static char alice_id[37], bob_id[37];

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from one IP */
  setenv("HERALD_STRIPE_TIMEOUT_MS", "1000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  th_start(&srv);
  alice = th_user(&srv, "payer", NULL, alice_id);
  bob = th_user(&srv, "payer", NULL, bob_id);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(alice);
  free(bob);
  free(admin);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

static const char open_body[] = "{\"amount\":4200,\"currency\":\"EUR\","
                                "\"payment_type\":\"coaching_session\"}";

/* POSTs to /api/v1/payments/<id>/<action>. */
static void act(const char *token, const char *id, const char *action, const char *body,
                struct th_response *r) {
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/%s", id, action);
  pf_call(&srv, token, "POST", path, NULL, body, r);
}

static void test_confirm_flow(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, alice, open_body, 201));
  struct th_response r;
  act(alice, id, "confirm", NULL, &r); /* no method chosen, none saved */
  th_assert_error(&r, 422, "payment_method_required");
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":42}", &r);
  th_assert_error(&r, 400, "invalid_type");
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":\"visa\"}", &r);
  th_assert_error(&r, 400, "invalid_payment_method");
  th_response_free(&r);
  act(alice, id, "confirm", "{\"card\":\"pm_card_visa\"}", &r);
  th_assert_error(&r, 400, "unknown_field");
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_threeDSecure2Required\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"requires_action\"}", r.json);
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"succeeded\",\"amount_refundable\":4200}", r.json);
  assert_non_null(th_str(r.json, "succeeded_at"));
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  th_assert_error(&r, 422, "payment_not_confirmable");
  th_response_free(&r);
  /* Each confirmation had its own provider key, derived from the payment id. */
  assert_int_equal(th_sql_long("SELECT confirm_attempts FROM payments WHERE id = $1::uuid", id),
                   2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action = 'payment.confirm_requested'", id),
                   2);
}

static void test_confirm_timeout_leaves_processing_then_retry(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, alice, open_body, 201));
  long charges = fs_created(&fake, "charge");
  fs_inject(&fake, "POST", "/v1/payment_intents/", "timeout", 1, 2.5);
  struct th_response r;
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "processing");
  /* Retrying the same confirmation reuses its key: the provider replays, no new charge. */
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"succeeded\",\"reconciliation_pending\":false}", r.json);
  th_response_free(&r);
  assert_int_equal(fs_created(&fake, "charge"), charges + 1);
  assert_int_equal(th_sql_long("SELECT confirm_attempts FROM payments WHERE id = $1::uuid", id),
                   1);
}

static void test_cancel(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, alice, open_body, 201));
  struct th_response r;
  act(alice, id, "cancel", "{\"cancellation_reason\":\"bored\"}", &r);
  th_assert_error(&r, 400, "invalid_reason");
  th_response_free(&r);
  act(bob, id, "cancel", NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  act(alice, id, "cancel", "{\"cancellation_reason\":\"requested_by_customer\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"canceled\",\"cancellation_reason\":"
                        "\"requested_by_customer\"}", r.json);
  th_response_free(&r);
  act(alice, id, "cancel", NULL, &r);
  th_assert_error(&r, 422, "payment_not_cancelable");
  th_response_free(&r);
  act(alice, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  th_assert_error(&r, 422, "payment_not_confirmable");
  th_response_free(&r);
  /* An admin may cancel anyone's open payment; nobody can cancel a succeeded one. */
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, bob, open_body, 201));
  act(admin, id, "cancel", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_null(json_object_get(r.json, "client_secret")));
  th_response_free(&r);
  snprintf(id, sizeof(id), "%s",
           pf_pay(&srv, bob, "{\"amount\":900,\"currency\":\"USD\",\"payment_type\":\"other\","
                             "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}", 201));
  act(bob, id, "cancel", NULL, &r);
  th_assert_error(&r, 422, "payment_not_cancelable");
  th_response_free(&r);
}

static void test_others_payments_are_404(void **state) {
  (void)state;
  char id[37], path[160];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, alice, open_body, 201));
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  struct th_response r;
  pf_call(&srv, bob, "GET", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  act(bob, id, "confirm", "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  act(bob, id, "refunds", "{\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", id);
  pf_call(&srv, bob, "GET", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_call(&srv, alice, "GET", "/api/v1/payments/not-a-uuid", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  /* The payer sees the client secret; an admin sees the payment without it. */
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  pf_call(&srv, alice, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(th_str(r.json, "client_secret"));
  th_assert_json_subset("{\"refunds\":{\"object\":\"list\",\"data\":[],\"has_more\":false}}",
                        r.json);
  th_response_free(&r);
  pf_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "user_id"), alice_id);
  assert_true(json_is_null(json_object_get(r.json, "client_secret")));
  th_response_free(&r);
}

/* The ids of a list answer, in order. */
static int list_ids(const struct th_response *r, char ids[][37], int max) {
  int n = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(r->json, "data"), i, p) {
    if (n < max) {
      snprintf(ids[n++], 37, "%s", th_str(p, "id"));
    }
  }
  return n;
}

static void test_list_filters_and_pages(void **state) {
  (void)state;
  char carol_id[37], made[3][37], got[10][37];
  char *carol = th_user(&srv, "payer", NULL, carol_id);
  snprintf(made[0], 37, "%s", pf_pay(&srv, carol, open_body, 201));
  snprintf(made[1], 37, "%s",
           pf_pay(&srv, carol, "{\"amount\":700,\"currency\":\"USD\",\"payment_type\":"
                               "\"venue_booking\",\"payment_method_id\":\"pm_card_visa\","
                               "\"confirm\":true}", 201));
  snprintf(made[2], 37, "%s", pf_pay(&srv, carol, open_body, 201));
  struct th_response r;
  pf_call(&srv, carol, "GET", "/api/v1/payments?limit=2", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"list\",\"has_more\":true}", r.json);
  assert_int_equal(list_ids(&r, got, 10), 2);
  assert_string_equal(got[0], made[2]); /* newest first */
  assert_string_equal(got[1], made[1]);
  th_response_free(&r);
  char path[200];
  snprintf(path, sizeof(path), "/api/v1/payments?limit=2&starting_after=%s", made[1]);
  pf_call(&srv, carol, "GET", path, NULL, NULL, &r);
  assert_int_equal(list_ids(&r, got, 10), 1);
  assert_string_equal(got[0], made[0]);
  th_assert_json_subset("{\"has_more\":false}", r.json);
  th_response_free(&r);
  pf_call(&srv, carol, "GET", "/api/v1/payments?status=succeeded", NULL, NULL, &r);
  assert_int_equal(list_ids(&r, got, 10), 1);
  assert_string_equal(got[0], made[1]);
  th_response_free(&r);
  pf_call(&srv, carol, "GET", "/api/v1/payments?payment_type=coaching_session", NULL, NULL, &r);
  assert_int_equal(list_ids(&r, got, 10), 2);
  th_response_free(&r);
  pf_call(&srv, carol, "GET", "/api/v1/payments?created_gte=2000-01-01T00:00:00Z"
                              "&created_lte=2000-12-31T00:00:00Z", NULL, NULL, &r);
  assert_int_equal(list_ids(&r, got, 10), 0);
  th_response_free(&r);
  pf_call(&srv, carol, "GET", "/api/v1/payments?created_gte=2000-01-01T00:00:00Z", NULL, NULL,
          &r);
  assert_int_equal(list_ids(&r, got, 10), 3);
  th_response_free(&r);
  pf_call(&srv, carol, "GET", "/api/v1/payments?status=paid&payment_type=x&created_gte=today"
                              "&created_lte=now&limit=0&starting_after=x", NULL, NULL, &r);
  assert_int_equal(r.status, 400);
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   6);
  th_response_free(&r);
  /* Only one's own payments; an admin lists everyone's. */
  pf_call(&srv, alice, "GET", "/api/v1/payments?limit=100", NULL, NULL, &r);
  int n = list_ids(&r, got, 10);
  for (int i = 0; i < n; i++) {
    assert_string_not_equal(got[i], made[0]);
  }
  th_response_free(&r);
  pf_call(&srv, admin, "GET", "/api/v1/payments?limit=3", NULL, NULL, &r);
  assert_int_equal(list_ids(&r, got, 10), 3);
  assert_string_equal(got[0], made[2]);
  th_response_free(&r);
  free(carol);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_confirm_flow),
    cmocka_unit_test(test_confirm_timeout_leaves_processing_then_retry),
    cmocka_unit_test(test_cancel),
    cmocka_unit_test(test_others_payments_are_404),
    cmocka_unit_test(test_list_filters_and_pages),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

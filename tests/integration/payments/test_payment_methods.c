/* Integration: /api/v1/payment-methods - saving (attached to the user's Stripe
 * customer, created on first use), listing, the default, deleting, paying with a
 * saved method; users see only their own. */
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

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from one IP */
  th_start(&srv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

/* Saves a test card; returns the new method's id in out (static per call site). */
static void save(const char *token, const char *pm, const char *key, long want, char out[37],
                 struct th_response *keep) {
  char body[120];
  snprintf(body, sizeof(body), "{\"provider_payment_method_id\":\"%s\"}", pm);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payment-methods", key, body, &r);
  if (r.status != want) {
    fail_msg("save %s: %ld %s", pm, r.status, r.body);
  }
  if (out != NULL) {
    snprintf(out, 37, "%s", th_str(r.json, "id") != NULL ? th_str(r.json, "id") : "");
  }
  if (keep != NULL) {
    *keep = r;
  } else {
    th_response_free(&r);
  }
}

static void test_save_list_default_delete(void **state) {
  (void)state;
  char uid[37], visa[37], mc[37];
  char *token = th_user(&srv, "payer", NULL, uid);
  long customers = fs_created(&fake, "customer");
  struct th_response r;
  save(token, "pm_card_visa", NULL, 201, visa, &r);
  th_assert_json_subset("{\"object\":\"payment_method\",\"type\":\"card\",\"is_default\":true,"
                        "\"card\":{\"brand\":\"visa\",\"last4\":\"4242\",\"exp_month\":12}}",
                        r.json);
  char provider_visa[64];
  snprintf(provider_visa, sizeof(provider_visa), "%s", th_str(r.json, "provider_payment_method_id"));
  assert_true(strncmp(provider_visa, "pm_", 3) == 0);
  th_response_free(&r);
  save(token, "pm_card_mastercard", NULL, 201, mc, &r);
  th_assert_json_subset("{\"is_default\":false,\"card\":{\"brand\":\"mastercard\"}}", r.json);
  th_response_free(&r);
  /* One provider customer for the user, made on first use. */
  assert_int_equal(fs_created(&fake, "customer"), customers + 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_customers WHERE user_id = $1::uuid",
                              uid), 1);

  pf_call(&srv, token, "GET", "/api/v1/payment-methods", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *data = json_object_get(r.json, "data");
  assert_int_equal(json_array_size(data), 2);
  assert_string_equal(th_str(json_array_get(data, 0), "id"), mc);
  th_response_free(&r);

  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payment-methods/%s/default", mc);
  pf_call(&srv, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"is_default\":true}", r.json);
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_methods WHERE user_id = $1::uuid"
                              " AND is_default", uid), 1);
  pf_call(&srv, token, "POST", path, NULL, "{\"x\":1}", &r);
  th_assert_error(&r, 400, "unknown_field");
  th_response_free(&r);

  /* Deleting the default detaches it at the provider; the other becomes the default. */
  snprintf(path, sizeof(path), "/api/v1/payment-methods/%s", mc);
  pf_call(&srv, token, "DELETE", path, NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  pf_call(&srv, token, "DELETE", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_assert_db("SELECT is_default::text FROM payment_methods WHERE id = $1::uuid", visa, "true");
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_methods/:id/detach"), 1);

  /* Paying with the saved method, then with the default implied. */
  char body[200];
  snprintf(body, sizeof(body), "{\"amount\":1200,\"currency\":\"USD\",\"payment_type\":\"other\","
                               "\"payment_method_id\":\"%s\",\"confirm\":true}", visa);
  const char *pid = pf_pay(&srv, token, body, 201);
  pf_assert_db("SELECT payment_method FROM payments WHERE id = $1::uuid", pid, provider_visa);
  pid = pf_pay(&srv, token, "{\"amount\":1300,\"currency\":\"USD\",\"payment_type\":\"other\","
                            "\"confirm\":true}", 201);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "succeeded");
  pf_assert_db("SELECT payment_method FROM payments WHERE id = $1::uuid", pid, provider_visa);
  free(token);
}

static void test_validation(void **state) {
  (void)state;
  char uid[37];
  char *token = th_user(&srv, "payer", NULL, uid);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payment-methods", NULL, "{}", &r);
  th_assert_error(&r, 400, "missing_field");
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/payment-methods", NULL,
          "{\"provider_payment_method_id\":5,\"brand\":\"visa\"}", &r);
  assert_int_equal(r.status, 400);
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   2);
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/payment-methods", NULL,
          "{\"provider_payment_method_id\":\"card_4242\"}", &r);
  th_assert_error(&r, 400, "invalid_payment_method");
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/payment-methods", NULL,
          "{\"provider_payment_method_id\":\"pm_does_not_exist\"}", &r);
  th_assert_error(&r, 400, "invalid_payment_method");
  th_response_free(&r);
  pf_call(&srv, token, "GET", "/api/v1/payment-methods?limit=500", NULL, NULL, &r);
  th_assert_error(&r, 400, "invalid_limit");
  th_response_free(&r);
  pf_call(&srv, token, "DELETE", "/api/v1/payment-methods/xyz", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_call(&srv, NULL, "GET", "/api/v1/payment-methods", NULL, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);
  free(token);
}

static void test_others_methods_are_404(void **state) {
  (void)state;
  char a_id[37], b_id[37], pm[37], path[160];
  char *alice = th_user(&srv, "payer", NULL, a_id);
  char *bob = th_user(&srv, "payer", NULL, b_id);
  save(alice, "pm_card_amex", NULL, 201, pm, NULL);
  struct th_response r;
  pf_call(&srv, bob, "GET", "/api/v1/payment-methods", NULL, NULL, &r);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/payment-methods/%s", pm);
  pf_call(&srv, bob, "DELETE", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/payment-methods/%s/default", pm);
  pf_call(&srv, bob, "POST", path, NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  /* Nor can Bob pay with Alice's saved method. */
  char body[200];
  snprintf(body, sizeof(body), "{\"amount\":1200,\"currency\":\"USD\",\"payment_type\":\"other\","
                               "\"payment_method_id\":\"%s\",\"confirm\":true}", pm);
  char key[37];
  h_uuid_v4(key);
  pf_call(&srv, bob, "POST", "/api/v1/payments", key, body, &r);
  th_assert_error(&r, 400, "invalid_payment_method");
  th_response_free(&r);
  pf_assert_db("SELECT count(*)::text FROM payment_methods WHERE id = $1::uuid", pm, "1");
  free(alice);
  free(bob);
}

static void test_idempotent_save(void **state) {
  (void)state;
  char uid[37], first[37], second[37];
  char *token = th_user(&srv, "payer", NULL, uid);
  long attaches = fs_calls(&fake, "POST /v1/payment_methods/pm_card_visa/attach");
  save(token, "pm_card_visa", "save-card-1", 201, first, NULL);
  struct th_response r;
  save(token, "pm_card_visa", "save-card-1", 201, second, &r);
  assert_string_equal(th_header(&r, "Idempotent-Replayed"), "true");
  th_response_free(&r);
  assert_string_equal(first, second);
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_methods/pm_card_visa/attach"),
                   attaches + 1);
  free(token);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_save_list_default_delete),
    cmocka_unit_test(test_validation),
    cmocka_unit_test(test_others_methods_are_404),
    cmocka_unit_test(test_idempotent_save),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

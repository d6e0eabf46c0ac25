/* Integration: refunds - partial then full, the refundable remainder under
 * concurrency, validation, permissions, pending refunds settled by webhook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *payer, *admin;
static char payer_id[37];

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from one IP */
  setenv("HERALD_STRIPE_TIMEOUT_MS", "1000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_HTTP_THREADS", "8", 1);
  th_start(&srv);
  fs_webhooks(&fake, &srv, 0);
  payer = th_user(&srv, "payer", NULL, payer_id);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(payer);
  free(admin);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

/* A succeeded payment of amount USD cents; its id in out. */
static void paid(long amount, char out[37]) {
  char body[200];
  snprintf(body, sizeof(body),
           "{\"amount\":%ld,\"currency\":\"USD\",\"payment_type\":\"tournament_fee\","
           "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}",
           amount);
  snprintf(out, 37, "%s", pf_pay(&srv, payer, body, 201));
}

static void refund(const char *token, const char *id, const char *body, struct th_response *r) {
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", id);
  pf_call(&srv, token, "POST", path, NULL, body, r);
}

static void test_partial_then_full(void **state) {
  (void)state;
  char id[37];
  paid(10000, id);
  struct th_response r;
  refund(admin, id, "{\"amount\":2500,\"reason\":\"requested_by_customer\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"refund\",\"amount\":2500,\"currency\":\"USD\","
                        "\"status\":\"succeeded\",\"reason\":\"requested_by_customer\"}",
                        r.json);
  assert_string_equal(th_str(r.json, "payment_id"), id);
  assert_non_null(th_str(r.json, "provider_refund_id"));
  th_response_free(&r);
  refund(admin, id, "{\"amount\":7501,\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 422, "amount_exceeds_refundable");
  th_response_free(&r);
  refund(admin, id, "{\"reason\":\"duplicate\"}", &r); /* the rest */
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"amount\":7500,\"status\":\"succeeded\"}", r.json);
  th_response_free(&r);
  refund(admin, id, "{\"amount\":1,\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 422, "payment_fully_refunded");
  th_response_free(&r);
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  pf_call(&srv, payer, "GET", path, NULL, NULL, &r);
  th_assert_json_subset("{\"amount_refunded\":10000,\"amount_refundable\":0,\"status\":"
                        "\"succeeded\"}", r.json);
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "refunds"), "data")),
                   2);
  th_response_free(&r);
  /* The payer lists the refunds, newest first; two refund notices were queued. */
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds?limit=1", id);
  pf_call(&srv, payer, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"list\",\"has_more\":true}", r.json);
  th_assert_json_subset("{\"amount\":7500}", json_array_get(json_object_get(r.json, "data"), 0));
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                              " 'payment_refunded' AND data->>'payment_id' = $1", id),
                   2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = 'refund.created'"
                              " AND details->>'payment_id' = $1", id),
                   2);
}

static void test_validation_and_permissions(void **state) {
  (void)state;
  char id[37];
  paid(5000, id);
  struct th_response r;
  refund(admin, id, "{\"amount\":0,\"reason\":\"because\",\"note\":1}", &r);
  assert_int_equal(r.status, 400);
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   3);
  th_response_free(&r);
  refund(admin, id, "{\"amount\":\"5\",\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 400, "invalid_type");
  th_response_free(&r);
  refund(admin, id, "{\"amount\":-3}", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  refund(admin, id, NULL, &r);
  th_assert_error(&r, 400, "missing_body");
  th_response_free(&r);
  refund(payer, id, "{\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  refund(admin, "9e3c1a52-0000-4000-8000-000000000000", "{\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  /* Only succeeded payments can be refunded. */
  snprintf(id, sizeof(id), "%s",
           pf_pay(&srv, payer, "{\"amount\":900,\"currency\":\"USD\",\"payment_type\":\"other\"}",
                  201));
  refund(admin, id, "{\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 422, "payment_not_refundable");
  th_response_free(&r);
}

struct racer {
  const char *id;
  long status;
};

static void *race(void *arg) {
  struct racer *x = arg;
  struct th_response r;
  refund(admin, x->id, "{\"amount\":3000,\"reason\":\"duplicate\"}", &r);
  x->status = r.status;
  th_response_free(&r);
  return NULL;
}

static void test_concurrent_partial_refunds_never_exceed(void **state) {
  (void)state;
  char id[37];
  paid(10000, id);
  struct racer racers[6];
  pthread_t threads[6];
  for (int i = 0; i < 6; i++) {
    racers[i] = (struct racer){.id = id};
    pthread_create(&threads[i], NULL, race, &racers[i]);
  }
  int created = 0, refused = 0;
  for (int i = 0; i < 6; i++) {
    pthread_join(threads[i], NULL);
    created += racers[i].status == 201;
    refused += racers[i].status == 422;
  }
  assert_int_equal(created, 3);
  assert_int_equal(refused, 3);
  assert_int_equal(th_sql_long("SELECT sum(amount) FROM refunds WHERE payment_id = $1::uuid", id),
                   9000);
  assert_int_equal(th_sql_long("SELECT amount_refunded FROM payments WHERE id = $1::uuid", id),
                   9000);
}

static void test_pending_refund_settled_by_webhook(void **state) {
  (void)state;
  char id[37];
  paid(6000, id);
  fs_inject(&fake, "POST", "/v1/refunds", "refund_pending", 1, 0);
  struct th_response r;
  refund(admin, id, "{\"amount\":1000,\"reason\":\"fraudulent\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"pending\"}", r.json);
  char provider[128], path[200];
  snprintf(provider, sizeof(provider), "%s", th_str(r.json, "provider_refund_id"));
  th_response_free(&r);
  /* Pending refunds count against the remainder. */
  refund(admin, id, "{\"amount\":5001,\"reason\":\"duplicate\"}", &r);
  th_assert_error(&r, 422, "amount_exceeds_refundable");
  th_response_free(&r);
  snprintf(path, sizeof(path), "/_fake/refunds/%s/succeed", provider);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
  const char *evt = fs_event_id(&fake, provider, "refund.updated");
  json_t *d = fs_deliver(&fake, &evt, 1, NULL);
  th_assert_json_subset("{\"status\":200}", json_array_get(d, 0));
  json_decref(d);
  pf_assert_db("SELECT status FROM refunds WHERE provider_refund_id = $1", provider, "succeeded");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                              " 'payment_refunded' AND data->>'payment_id' = $1", id),
                   1);
}

static void test_refund_timeout_stays_pending(void **state) {
  (void)state;
  char id[37];
  paid(4000, id);
  fs_inject(&fake, "POST", "/v1/refunds", "server_error", 1, 0);
  struct th_response r;
  char key[37];
  h_uuid_v4(key);
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", id);
  pf_call(&srv, admin, "POST", path, key, "{\"reason\":\"duplicate\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"pending\",\"reconciliation_pending\":true,"
                        "\"amount\":4000}", r.json);
  th_response_free(&r);
  /* The same request again replays; the amount stays reserved. */
  pf_call(&srv, admin, "POST", path, key, "{\"reason\":\"duplicate\"}", &r);
  assert_int_equal(r.status, 201);
  assert_string_equal(th_header(&r, "Idempotent-Replayed"), "true");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM refunds WHERE payment_id = $1::uuid", id), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_partial_then_full),
    cmocka_unit_test(test_validation_and_permissions),
    cmocka_unit_test(test_concurrent_partial_refunds_never_exceed),
    cmocka_unit_test(test_pending_refund_settled_by_webhook),
    cmocka_unit_test(test_refund_timeout_stays_pending),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

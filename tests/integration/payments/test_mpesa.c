/* Integration: M-Pesa (Daraja STK push) against tests/fakes/fake_mpesa.py - success, the
 * payer cancels, no answer then the status query of sync, a replayed callback, forged
 * callbacks refused, reversals as refunds, GET /payments/config and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "fake_mpesa_ctl.h"
#include "payment_fixtures.h"
#include "reconcile/reconcile.h"

static struct th_server srv;
static struct wt_proc fake;
static char *payer, *admin;

static int setup(void **state) {
  (void)state;
  wt_init();
  fm_start(&fake, 300);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_HTTP_THREADS", "8", 1);
  th_start(&srv);
  fm_point(&srv);
  char payer_id[37];
  payer = th_user(&srv, "mpesa", NULL, payer_id);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(payer);
  free(admin);
  th_stop(&srv);
  wt_end(NULL, &fake);
  return 0;
}

/* POSTs an M-Pesa payment of amount (minor units of KES) from phone; the response in r. */
static void push(const char *phone, long amount, struct th_response *r) {
  char body[300], key[64];
  snprintf(body, sizeof(body),
           "{\"amount\":%ld,\"currency\":\"KES\",\"payment_type\":\"venue_booking\","
           "\"provider\":\"mpesa\",\"phone\":\"%s\",\"description\":\"Court 3\"}",
           amount, phone);
  snprintf(key, sizeof(key), "mpesa-%ld-%d", (long)random(), (int)getpid());
  pf_call(&srv, payer, "POST", "/api/v1/payments", key, body, r);
}

/* An accepted push: its payment id and CheckoutRequestID. */
static void pushed(const char *phone, long amount, char id[37], char checkout[128]) {
  struct th_response r;
  push(phone, amount, &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"processing\",\"provider\":\"mpesa\",\"currency\":\"KES\"}",
                        r.json);
  snprintf(id, 37, "%s", th_str(r.json, "id"));
  snprintf(checkout, 128, "%s", th_str(r.json, "provider_payment_intent_id"));
  assert_int_equal(strncmp(checkout, "ws_CO_", 6), 0);
  th_response_free(&r);
}

/* Waits up to 10 s for the payment to leave processing; returns it (caller frees). */
static json_t *settled(const char *id) {
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  for (int i = 0; i < 200; i++) {
    struct th_response r;
    th_call(&srv, payer, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    if (strcmp(th_str(r.json, "status"), "processing") != 0) {
      json_t *p = json_incref(r.json);
      th_response_free(&r);
      return p;
    }
    th_response_free(&r);
    usleep(50 * 1000);
  }
  fail_msg("payment %s still processing after 10 s", id);
  return NULL;
}

/* How many times the payment was moved to a final status. */
static long status_changes(const char *id) {
  return th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1"
                     " AND action = 'payment.status_changed' AND details->>'to' IN"
                     " ('succeeded', 'canceled', 'failed')", id);
}

static void test_success(void **state) {
  (void)state;
  char id[37], checkout[128];
  long queries = fm_stat(&fake, "query");
  pushed("+254708374149", 15000, id, checkout);
  json_t *p = settled(id);
  th_assert_json_subset("{\"status\":\"succeeded\",\"amount\":15000,\"reconciliation_pending\":false}",
                        p);
  const char *receipt = th_str(p, "provider_reference");
  assert_non_null(receipt);
  assert_int_equal(receipt[0], 'S');
  assert_non_null(th_str(p, "succeeded_at"));
  json_decref(p);
  assert_true(fm_stat(&fake, "query") > queries); /* the callback was confirmed by a query */
  assert_int_equal(status_changes(id), 1);
  pf_assert_db("SELECT details->>'source' FROM audit_log WHERE target_id = $1"
               " AND action = 'payment.status_changed' AND details->>'to' = 'succeeded'", id,
               "fetch");
  /* what the fake received: whole shillings, the number without +, our reference */
  json_t *msgs = wt_fake_messages(fake.port);
  json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
  th_assert_json_subset("{\"amount\":150,\"phone\":\"254708374149\"}", last);
  assert_int_equal(strncmp(json_string_value(json_object_get(last, "reference")), id, 12), 0);
  json_decref(msgs);
}

static void test_token_cached(void **state) {
  (void)state;
  char id[37], checkout[128];
  pushed("+254708374150", 10000, id, checkout);
  json_decref(settled(id));
  pushed("+254708374150", 10000, id, checkout);
  json_decref(settled(id));
  assert_int_equal(fm_stat(&fake, "token"), 1); /* one token for every call of the process */
}

static void test_payer_cancels(void **state) {
  (void)state;
  fm_outcome(&fake, "254711000001", 1032, 200, true);
  char id[37], checkout[128];
  pushed("+254711000001", 10000, id, checkout);
  json_t *p = settled(id);
  th_assert_json_subset("{\"status\":\"canceled\",\"cancellation_reason\":\"canceled_by_payer\"}",
                        p);
  json_decref(p);
}

static void test_insufficient_funds(void **state) {
  (void)state;
  fm_outcome(&fake, "254711000002", 1, 200, true);
  char id[37], checkout[128];
  pushed("+254711000002", 10000, id, checkout);
  json_t *p = settled(id);
  th_assert_json_subset("{\"status\":\"failed\",\"last_payment_error\":{\"code\":"
                        "\"insufficient_funds\",\"result_code\":1}}", p);
  assert_non_null(th_str(p, "failed_at"));
  json_decref(p);
}

static void test_timeout_then_status_query(void **state) {
  (void)state;
  fm_outcome(&fake, "254711000003", 1037, 200, false); /* no callback ever comes */
  char id[37], checkout[128], path[128];
  pushed("+254711000003", 10000, id, checkout);
  fm_wait_stat(&fake, "answered", fm_stat(&fake, "answered") + 1, 5);
  usleep(300 * 1000);
  pf_assert_db("SELECT status FROM payments WHERE id = $1", id, "processing");
  snprintf(path, sizeof(path), "/api/v1/admin/payments/%s/sync", id);
  struct th_response r;
  th_call(&srv, admin, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 202); /* queued for herald-reconcile; its sync runs here */
  th_response_free(&r);
  long queries = fm_stat(&fake, "query");
  enum h_sync_outcome outcome;
  assert_int_equal(h_reconcile_sync_payment(&srv.app, id, true, &outcome), H_OK);
  assert_int_equal(outcome, H_SYNC_SETTLED);
  assert_int_equal(fm_stat(&fake, "query"), queries + 1);
  pf_assert_db("SELECT status FROM payments WHERE id = $1", id, "failed");
  pf_assert_db("SELECT last_payment_error->>'code' FROM payments WHERE id = $1", id,
               "payer_unreachable");
}

static void test_callback_replayed(void **state) {
  (void)state;
  char id[37], checkout[128];
  pushed("+254708374151", 20000, id, checkout);
  json_decref(settled(id));
  long queries = fm_stat(&fake, "query");
  for (int i = 0; i < 3; i++) {
    assert_int_equal(fm_callback(&fake, checkout, NULL), 200);
  }
  assert_int_equal(fm_stat(&fake, "query"), queries); /* a settled payment asks nothing */
  assert_int_equal(status_changes(id), 1);
  /* a replay claiming another outcome changes nothing either */
  assert_int_equal(fm_callback(&fake, checkout, "{\"result_code\":1032}"), 200);
  pf_assert_db("SELECT status FROM payments WHERE id = $1", id, "succeeded");
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE channel = 'email' AND"
                               " notification_id IN"
                               " (SELECT id FROM notifications WHERE data->>'payment_id' = $1)",
                               id),
                   1); /* one receipt e-mail */
}

static void test_forged_callbacks_refused(void **state) {
  (void)state;
  fm_outcome(&fake, "254711000004", 0, 8000, false); /* the payer takes 8 s */
  char id[37], checkout[128], url[256];
  pushed("+254711000004", 10000, id, checkout);
  /* a forged success on the right path: the status query says "being processed" */
  assert_int_equal(fm_callback(&fake, checkout, "{\"result_code\":0,\"receipt\":\"FORGED1\"}"),
                   200);
  pf_assert_db("SELECT status FROM payments WHERE id = $1", id, "processing");
  pf_assert_db("SELECT COALESCE(provider_reference, '') FROM payments WHERE id = $1", id, "");
  /* the wrong amount */
  assert_int_equal(fm_callback(&fake, checkout, "{\"result_code\":0,\"amount\":1}"), 400);
  /* the wrong secret: 404 like any unknown path, and nothing reaches the provider */
  long queries = fm_stat(&fake, "query");
  snprintf(url, sizeof(url), "%s/api/v1/webhooks/mpesa/not-the-secret-0123456789abcdefgh",
           srv.base);
  char *extra = h_sprintf("{\"result_code\":0,\"url\":\"%s\"}", url);
  assert_int_equal(fm_callback(&fake, checkout, extra), 404);
  free(extra);
  assert_int_equal(fm_stat(&fake, "query"), queries);
  /* an unknown CheckoutRequestID */
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/webhooks/mpesa/" FM_CALLBACK_SECRET, NULL,
             "{\"Body\":{\"stkCallback\":{\"MerchantRequestID\":\"1\",\"CheckoutRequestID\":"
             "\"ws_CO_unknown\",\"ResultCode\":0,\"ResultDesc\":\"ok\"}}}",
             &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  assert_int_equal(status_changes(id), 0);
}

static void test_callback_bad_input(void **state) {
  (void)state;
  static const char *const bodies[] = {
    "[]", "{}", "{\"Body\":{}}", "{\"Body\":{\"stkCallback\":{\"ResultCode\":0}}}",
    "{\"Body\":{\"stkCallback\":{\"CheckoutRequestID\":\"x\",\"ResultCode\":\"0\"}}}",
    "{\"Result\":{\"ResultCode\":0}}", "not json",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    struct th_response r;
    th_request(&srv, "POST", "/api/v1/webhooks/mpesa/" FM_CALLBACK_SECRET, NULL, bodies[i], &r);
    if (r.status != 400) {
      fail_msg("body %s: status %ld, want 400", bodies[i], r.status);
    }
    th_response_free(&r);
  }
}

static void test_refund_by_reversal(void **state) {
  (void)state;
  char id[37], checkout[128], path[128];
  pushed("+254708374152", 30000, id, checkout);
  json_decref(settled(id));
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", id);
  struct th_response r;
  pf_call(&srv, admin, "POST", path, "mpesa-refund-1",
          "{\"amount\":10000,\"reason\":\"requested_by_customer\"}", &r);
  if (r.status != 201) {
    fail_msg("refund: %ld %s", r.status, r.body);
  }
  th_assert_json_subset("{\"status\":\"pending\",\"amount\":10000,\"currency\":\"KES\"}", r.json);
  char refund[37];
  snprintf(refund, sizeof(refund), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  for (int i = 0; i < 100; i++) { /* the reversal's result arrives on the callback path */
    char *status = th_sql_text("SELECT status FROM refunds WHERE id = $1", refund);
    bool pending = status != NULL && strcmp(status, "pending") == 0;
    free(status);
    if (!pending) {
      break;
    }
    usleep(50 * 1000);
  }
  pf_assert_db("SELECT status FROM refunds WHERE id = $1", refund, "succeeded");
  pf_assert_db("SELECT amount_refunded::text FROM payments WHERE id = $1", id, "10000");
  json_t *msgs = wt_fake_messages(fake.port);
  json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
  th_assert_json_subset("{\"kind\":\"reversal\",\"amount\":100}", last);
  json_decref(msgs);
}

static void test_bad_input(void **state) {
  (void)state;
  static const struct {
    const char *body, *param, *code;
  } cases[] = {
    {"{\"provider\":\"mpesa\"}", "phone", "missing_field"},
    {"{\"provider\":\"mpesa\",\"phone\":\"+15555550100\"}", "phone", "invalid_phone"},
    {"{\"provider\":\"mpesa\",\"phone\":\"0712345678\"}", "phone", "invalid_phone"},
    {"{\"provider\":\"mpesa\",\"phone\":\"+25471234567\"}", "phone", "invalid_phone"},
    {"{\"provider\":\"mpesa\",\"phone\":12}", "phone", "invalid_type"},
    {"{\"provider\":\"paypal\"}", "provider", "invalid_provider"},
    {"{\"provider\":3}", "provider", "invalid_type"},
    {"{\"phone\":\"+254712345678\"}", "phone", "not_allowed"},
    {"{\"provider\":\"mpesa\",\"phone\":\"+254712345678\",\"payment_method_id\":"
     "\"pm_card_visa\"}", "payment_method_id", "not_allowed"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *body = json_loads(cases[i].body, 0, NULL);
    json_t *base = json_pack("{sIssss}", "amount", (json_int_t)10000, "currency", "KES",
                             "payment_type", "other");
    json_object_update_missing(body, base);
    char *text = json_dumps(body, JSON_COMPACT);
    struct th_response r;
    pf_call(&srv, payer, "POST", "/api/v1/payments", "bad-input", text, &r);
    th_assert_field_error(&r, cases[i].param, cases[i].code);
    th_response_free(&r);
    free(text);
    json_decref(body);
    json_decref(base);
  }
  struct th_response r;
  pf_call(&srv, payer, "POST", "/api/v1/payments", "bad-input-2",
          "{\"amount\":10050,\"currency\":\"KES\",\"payment_type\":\"other\","
          "\"provider\":\"mpesa\",\"phone\":\"+254712345678\"}", &r);
  th_assert_field_error(&r, "amount", "invalid_amount");
  th_response_free(&r);
  pf_call(&srv, payer, "POST", "/api/v1/payments", "bad-input-3",
          "{\"amount\":10000,\"currency\":\"USD\",\"payment_type\":\"other\","
          "\"provider\":\"mpesa\",\"phone\":\"+254712345678\"}", &r);
  th_assert_field_error(&r, "currency", "unsupported_currency");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM payments WHERE idempotency_key LIKE"
                               " 'bad-input%' AND $1 = $1", "x"), 0);
}

static void test_push_refused(void **state) {
  (void)state;
  wt_fake_rule(fake.port, "{\"stage\":\"stkpush\",\"status\":400,\"error_code\":\"400.002.02\","
                          "\"text\":\"Bad Request - Invalid PartyA\"}");
  struct th_response r;
  push("+254711000009", 10000, &r);
  th_assert_error(&r, 400, "mpesa_rejected");
  th_response_free(&r);
  wt_fake_rule(fake.port, "{\"stage\":\"stkpush\",\"mode\":\"timeout\",\"delay_s\":3}");
  push("+254711000010", 10000, &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  /* no answer: processing, in doubt, never pushed again (the phone would ring twice) */
  pf_assert_db("SELECT status || ' ' || needs_reconciliation FROM payments"
               " WHERE payment_method = $1", "254711000010", "processing true");
}

static void test_config(void **state) {
  (void)state;
  struct th_response r;
  th_call(&srv, payer, "GET", "/api/v1/payments/config", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"payment_config\",\"default_provider\":\"stripe\"}",
                        r.json);
  json_t *providers = json_object_get(r.json, "providers");
  assert_int_equal(json_array_size(providers), 2);
  th_assert_json_subset("{\"name\":\"mpesa\",\"enabled\":true,\"currencies\":[\"KES\"],"
                        "\"needs\":\"phone\"}", json_array_get(providers, 1));
  th_assert_json_subset("{\"name\":\"stripe\",\"enabled\":false,\"needs\":\"payment_method\"}",
                        json_array_get(providers, 0));
  th_response_free(&r);
  th_request(&srv, "GET", "/api/v1/payments/config", NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_success),
    cmocka_unit_test(test_token_cached),
    cmocka_unit_test(test_payer_cancels),
    cmocka_unit_test(test_insufficient_funds),
    cmocka_unit_test(test_timeout_then_status_query),
    cmocka_unit_test(test_callback_replayed),
    cmocka_unit_test(test_forged_callbacks_refused),
    cmocka_unit_test(test_callback_bad_input),
    cmocka_unit_test(test_refund_by_reversal),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_push_refused),
    cmocka_unit_test(test_config),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

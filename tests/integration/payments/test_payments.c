/* Integration: POST /api/v1/payments against the fake Stripe - creation, fees,
 * zero-decimal currencies, validation of every field, Idempotency-Key replay and
 * concurrency, declines, and timeouts that must not charge twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "payment_fixtures.h"

static struct th_server srv;
static char run_id[9]; /* keeps this run's Idempotency-Keys apart from earlier runs' */

/* name-<run id> in one of 8 rotating static buffers. */
static const char *K(const char *name) {
  static char bufs[8][80];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, 80, "%s-%s", name, run_id);
  return b;
}
static struct fs_fake fake;
static char *token;
static char user_id[37];

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1); /* many sign-ups from one IP */
  setenv("HERALD_STRIPE_TIMEOUT_MS", "1000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "1", 1);
  setenv("HERALD_PAYMENT_MAX_AMOUNT", "1000000", 1);
  setenv("HERALD_PAYMENT_CURRENCIES", "USD,EUR,JPY,KRW,KWD", 1);
  setenv("HERALD_PAYMENT_PROVIDER_FEES", "*:290:30,JPY:360:0", 1);
  setenv("HERALD_PAYMENT_PLATFORM_FEES", "*:100:0", 1);
  setenv("HERALD_HTTP_THREADS", "8", 1);
  th_start(&srv);
  token = th_user(&srv, "payer", NULL, user_id);
  snprintf(run_id, sizeof(run_id), "%.8s", user_id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(token);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

static const char visa_body[] =
    "{\"amount\":2500,\"currency\":\"USD\",\"payment_type\":\"tournament_fee\","
    "\"description\":\"Spring open\",\"metadata\":{\"team\":\"Falcons\"},"
    "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}";

static void test_create_and_charge(void **state) {
  (void)state;
  long before = fs_created(&fake, "payment_intent");
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("create-and-charge-1"), visa_body, &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"payment\",\"status\":\"succeeded\",\"amount\":2500,"
                        "\"currency\":\"USD\",\"payment_type\":\"tournament_fee\","
                        "\"metadata\":{\"team\":\"Falcons\"},\"amount_refunded\":0,"
                        "\"amount_refundable\":2500,"
                        "\"fees\":{\"provider\":103,\"platform\":25,\"net\":2372}}",
                        r.json);
  const char *id = th_str(r.json, "id");
  assert_true(h_uuid_valid(id));
  assert_string_equal(th_str(r.json, "user_id"), user_id);
  assert_non_null(strstr(th_str(r.json, "client_secret"), "_secret_"));
  assert_int_equal(fs_created(&fake, "payment_intent"), before + 1);
  /* The row, its audit trail and the receipt e-mail queued for the payer. */
  assert_int_equal(th_sql_long("SELECT fee_provider FROM payments WHERE id = $1::uuid", id), 103);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1"
                              " AND action IN ('payment.created', 'payment.status_changed')",
                              id),
                   2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications n JOIN deliveries d ON"
                              " d.notification_id = n.id WHERE n.template_key = 'payment_receipt'"
                              " AND n.data->>'payment_id' = $1 AND d.channel = 'email'",
                              id),
                   1);
  /* The Idempotency-Key the provider saw is derived from the payment id. */
  json_t *log = NULL;
  fs_call(&fake, "GET", "/_fake/requests?path=/v1/payment_intents", NULL, &log);
  char want[96];
  snprintf(want, sizeof(want), "herald-payment-%s-create", id);
  bool seen = false;
  size_t i;
  json_t *req;
  json_array_foreach(json_object_get(log, "data"), i, req) {
    const char *k = th_str(req, "idempotency_key");
    seen |= k != NULL && strcmp(k, want) == 0 &&
            strcmp(th_str(json_object_get(json_object_get(req, "params"), "metadata"),
                          "herald_payment_id"), id) == 0;
  }
  assert_true(seen);
  json_decref(log);
  th_response_free(&r);
}

static void test_create_without_confirm(void **state) {
  (void)state;
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("no-confirm-1"),
          "{\"amount\":1500,\"currency\":\"EUR\",\"payment_type\":\"coaching_session\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"requires_payment_method\",\"payment_method\":null,"
                        "\"amount_refundable\":0,\"reconciliation_pending\":false}",
                        r.json);
  assert_non_null(th_str(r.json, "client_secret"));
  assert_non_null(th_str(r.json, "provider_payment_intent_id"));
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("no-confirm-2"),
          "{\"amount\":1500,\"currency\":\"EUR\",\"payment_type\":\"venue_booking\","
          "\"payment_method_id\":\"pm_card_mastercard\"}",
          &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"requires_confirmation\"}", r.json);
  th_response_free(&r);
}

static void test_zero_and_three_decimal_currencies(void **state) {
  (void)state;
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("jpy-1"),
          "{\"amount\":5000,\"currency\":\"jpy\",\"payment_type\":\"other\","
          "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}",
          &r);
  assert_int_equal(r.status, 201);
  /* 3.6% of 5000 yen = 180, no fixed part; 1% platform = 50: whole yen, no cents. */
  th_assert_json_subset("{\"currency\":\"JPY\",\"amount\":5000,\"status\":\"succeeded\","
                        "\"fees\":{\"provider\":180,\"platform\":50,\"net\":4770}}",
                        r.json);
  th_response_free(&r);
  /* The provider got the amount as is (yen), in lower case. */
  json_t *log = NULL;
  fs_call(&fake, "GET", "/_fake/requests?path=/v1/payment_intents", NULL, &log);
  json_t *last = json_array_get(json_object_get(log, "data"),
                                json_array_size(json_object_get(log, "data")) - 1);
  th_assert_json_subset("{\"params\":{\"amount\":\"5000\",\"currency\":\"jpy\"}}", last);
  json_decref(log);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("kwd-1"),
          "{\"amount\":1235,\"currency\":\"KWD\",\"payment_type\":\"other\"}", &r);
  th_assert_error(&r, 400, "amount_invalid_precision");
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("krw-1"),
          "{\"amount\":100,\"currency\":\"KRW\",\"payment_type\":\"other\"}", &r);
  th_assert_error(&r, 400, "amount_too_small");
  th_response_free(&r);
}

/* Asserts that a 400 lists an error for param with code. */
static void assert_field_error(const struct th_response *r, const char *param, const char *code) {
  json_t *errors = json_object_get(json_object_get(r->json, "error"), "errors");
  size_t i;
  json_t *e;
  json_array_foreach(errors, i, e) {
    if (strcmp(th_str(e, "param"), param) == 0 && strcmp(th_str(e, "code"), code) == 0) {
      return;
    }
  }
  fail_msg("no %s error for %s in %s", code, param, r->body);
}

static void test_validation_every_field(void **state) {
  (void)state;
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", NULL,
          "{\"amount\":\"12\",\"currency\":\"US\",\"payment_type\":\"lunch\","
          "\"description\":7,\"metadata\":[1],\"payment_method_id\":\"card-1\","
          "\"confirm\":\"yes\",\"tip\":1}",
          &r);
  assert_int_equal(r.status, 400);
  assert_field_error(&r, "amount", "invalid_type");
  assert_field_error(&r, "currency", "invalid_currency");
  assert_field_error(&r, "payment_type", "invalid_payment_type");
  assert_field_error(&r, "description", "invalid_type");
  assert_field_error(&r, "metadata", "invalid_metadata");
  assert_field_error(&r, "payment_method_id", "invalid_payment_method");
  assert_field_error(&r, "confirm", "invalid_type");
  assert_field_error(&r, "tip", "unknown_field");
  assert_field_error(&r, "Idempotency-Key", "missing_idempotency_key");
  th_response_free(&r);

  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-1"), "{}", &r);
  assert_field_error(&r, "amount", "missing_field");
  assert_field_error(&r, "currency", "missing_field");
  assert_field_error(&r, "payment_type", "missing_field");
  th_response_free(&r);

  static const struct {
    const char *body, *param, *code;
  } cases[] = {
    {"{\"amount\":0,\"currency\":\"USD\",\"payment_type\":\"other\"}", "amount",
     "amount_not_positive"},
    {"{\"amount\":-5,\"currency\":\"USD\",\"payment_type\":\"other\"}", "amount",
     "amount_not_positive"},
    {"{\"amount\":1000001,\"currency\":\"USD\",\"payment_type\":\"other\"}", "amount",
     "amount_too_large"},
    {"{\"amount\":12.5,\"currency\":\"USD\",\"payment_type\":\"other\"}", "amount",
     "invalid_type"},
    {"{\"amount\":1000,\"currency\":\"GBP\",\"payment_type\":\"other\"}", "currency",
     "unsupported_currency"},
    {"{\"amount\":1000,\"currency\":\"XYZ\",\"payment_type\":\"other\"}", "currency",
     "invalid_currency"},
    {"{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\",\"metadata\":"
     "{\"herald_payment_id\":\"x\"}}", "metadata.herald_payment_id", "invalid_metadata_key"},
    {"{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\",\"metadata\":"
     "{\"n\":5}}", "metadata.n", "invalid_metadata_value"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    pf_call(&srv, token, "POST", "/api/v1/payments", K("v-2"), cases[i].body, &r);
    if (r.status != 400) {
      fail_msg("%s: %ld %s", cases[i].body, r.status, r.body);
    }
    assert_field_error(&r, cases[i].param, cases[i].code);
    th_response_free(&r);
  }
  char *long_text = h_malloc(1102);
  memset(long_text, 'd', 1101);
  long_text[1101] = '\0';
  char *body = h_sprintf("{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\","
                         "\"description\":\"%s\"}", long_text);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-2"), body, &r);
  assert_field_error(&r, "description", "too_long");
  th_response_free(&r);
  free(body);
  free(long_text);

  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-3"), "[1]", &r);
  th_assert_error(&r, 400, "invalid_body");
  th_response_free(&r);
  pf_call(&srv, NULL, "POST", "/api/v1/payments", "v-4", visa_body, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);
  /* A saved method id that is not the caller's. */
  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-5"),
          "{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\","
          "\"payment_method_id\":\"8b0c1d0e-1111-4222-8333-944455556666\",\"confirm\":true}",
          &r);
  th_assert_error(&r, 400, "invalid_payment_method");
  th_response_free(&r);
  /* Confirming with no method at all and no default saved. */
  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-6"),
          "{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\",\"confirm\":true}",
          &r);
  th_assert_error(&r, 422, "payment_method_required");
  th_response_free(&r);
  /* An unknown provider method: the provider refuses; the payment is closed. */
  pf_call(&srv, token, "POST", "/api/v1/payments", K("v-7"),
          "{\"amount\":1000,\"currency\":\"USD\",\"payment_type\":\"other\","
          "\"payment_method_id\":\"pm_doesNotExist\",\"confirm\":true}",
          &r);
  th_assert_error(&r, 400, "resource_missing");
  th_response_free(&r);
  pf_assert_db("SELECT status FROM payments WHERE idempotency_key = $1", K("v-7"), "canceled");
}

static void test_idempotent_replay_and_mismatch(void **state) {
  (void)state;
  long before = fs_calls(&fake, "POST /v1/payment_intents");
  struct th_response a, b, c;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("replay-1"), visa_body, &a);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("replay-1"), visa_body, &b);
  assert_int_equal(a.status, 201);
  assert_int_equal(b.status, 201);
  assert_string_equal(th_header(&b, "Idempotent-Replayed"), "true");
  assert_string_equal(th_str(a.json, "id"), th_str(b.json, "id"));
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_intents"), before + 1);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("replay-1"),
          "{\"amount\":2501,\"currency\":\"USD\",\"payment_type\":\"tournament_fee\"}", &c);
  th_assert_error(&c, 400, "idempotency_key_reused");
  assert_string_equal(th_str(json_object_get(c.json, "error"), "type"), "idempotency_error");
  assert_int_equal(th_sql_long("SELECT count(*) FROM payments WHERE idempotency_key = $1",
                              K("replay-1")),
                   1);
  th_response_free(&a);
  th_response_free(&b);
  th_response_free(&c);
}

struct racer {
  const char *key;
  long status;
  char id[37];
};

static void *race(void *arg) {
  struct racer *r = arg;
  struct th_response resp;
  pf_call(&srv, token, "POST", "/api/v1/payments", r->key, visa_body, &resp);
  r->status = resp.status;
  snprintf(r->id, sizeof(r->id), "%s", th_str(resp.json, "id") ? th_str(resp.json, "id") : "");
  th_response_free(&resp);
  return NULL;
}

static void test_ten_concurrent_identical_requests(void **state) {
  (void)state;
  char key[40];
  h_uuid_v4(key);
  long calls = fs_calls(&fake, "POST /v1/payment_intents");
  long created = fs_created(&fake, "payment_intent");
  fs_inject(&fake, "POST", "/v1/payment_intents", "hang", 1, 0.5); /* widen the race */
  struct racer racers[10];
  pthread_t threads[10];
  for (int i = 0; i < 10; i++) {
    racers[i] = (struct racer){.key = key};
    pthread_create(&threads[i], NULL, race, &racers[i]);
  }
  int ok = 0, busy = 0;
  const char *id = NULL;
  for (int i = 0; i < 10; i++) {
    pthread_join(threads[i], NULL);
    ok += racers[i].status == 201;
    busy += racers[i].status == 409;
    if (racers[i].status == 201) {
      if (id != NULL) {
        assert_string_equal(id, racers[i].id);
      }
      id = racers[i].id;
    }
  }
  assert_int_equal(ok + busy, 10);
  assert_true(ok >= 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM payments WHERE idempotency_key = $1", key), 1);
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_intents"), calls + 1);
  assert_int_equal(fs_created(&fake, "payment_intent"), created + 1);
}

static void test_timeout_then_internal_retry_charges_once(void **state) {
  (void)state;
  long calls = fs_calls(&fake, "POST /v1/payment_intents");
  long created = fs_created(&fake, "payment_intent");
  long charges = fs_created(&fake, "charge");
  /* The provider charges, but its answer comes after our 1 s timeout. */
  fs_inject(&fake, "POST", "/v1/payment_intents", "timeout", 1, 2.5);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("timeout-1"), visa_body, &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"succeeded\",\"reconciliation_pending\":false}", r.json);
  th_response_free(&r);
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_intents"), calls + 2);
  assert_int_equal(fs_created(&fake, "payment_intent"), created + 1);
  assert_int_equal(fs_created(&fake, "charge"), charges + 1);
}

static void test_timeout_then_client_retry_charges_once(void **state) {
  (void)state;
  long created = fs_created(&fake, "payment_intent");
  long charges = fs_created(&fake, "charge");
  /* First attempt: charged, answer lost; our retry meets a 500: the client gets a 503. */
  fs_inject(&fake, "POST", "/v1/payment_intents", "timeout", 1, 2.5);
  fs_inject(&fake, "POST", "/v1/payment_intents", "server_error", 1, 0);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("timeout-2"), visa_body, &r);
  th_assert_error(&r, 503, "provider_unavailable");
  assert_non_null(th_header(&r, "Retry-After"));
  th_response_free(&r);
  char *id = th_sql_text("SELECT id FROM payments WHERE idempotency_key = $1", K("timeout-2"));
  assert_non_null(id);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "processing");
  assert_int_equal(th_sql_long("SELECT needs_reconciliation::int FROM payments"
                              " WHERE id = $1::uuid", id), 1);
  /* The client retries with the same key: same payment, the provider replays. */
  pf_call(&srv, token, "POST", "/api/v1/payments", K("timeout-2"), visa_body, &r);
  assert_int_equal(r.status, 201);
  assert_string_equal(th_str(r.json, "id"), id);
  th_assert_json_subset("{\"status\":\"succeeded\",\"reconciliation_pending\":false}", r.json);
  th_response_free(&r);
  assert_int_equal(fs_created(&fake, "payment_intent"), created + 1);
  assert_int_equal(fs_created(&fake, "charge"), charges + 1);
  free(id);
}

static void test_rate_limited_then_retried(void **state) {
  (void)state;
  long calls = fs_calls(&fake, "POST /v1/payment_intents");
  fs_inject(&fake, "POST", "/v1/payment_intents", "rate_limit", 1, 0);
  pf_pay(&srv, token, visa_body, 201);
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_intents"), calls + 2);
  /* Still limited after every retry: 503 with Retry-After, nothing charged. */
  long charges = fs_created(&fake, "charge");
  fs_inject(&fake, "POST", "/v1/payment_intents", "rate_limit", 2, 0);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("limited-1"), visa_body, &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  assert_int_equal(fs_created(&fake, "charge"), charges);
}

static void test_declined_card(void **state) {
  (void)state;
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", K("declined-1"),
          "{\"amount\":3000,\"currency\":\"USD\",\"payment_type\":\"other\","
          "\"payment_method_id\":\"pm_card_chargeDeclinedInsufficientFunds\",\"confirm\":true}",
          &r);
  th_assert_error(&r, 402, "card_declined");
  th_assert_json_subset("{\"error\":{\"type\":\"card_error\",\"decline_code\":"
                        "\"insufficient_funds\",\"param\":\"payment_method_id\"}}",
                        r.json);
  char id[37], path[128];
  snprintf(id, sizeof(id), "%s", th_str(json_object_get(r.json, "error"), "payment_id"));
  th_response_free(&r);
  /* The payment is kept, waiting for another method, with the decline recorded. */
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  pf_call(&srv, token, "GET", path, NULL, NULL, &r);
  th_assert_json_subset("{\"status\":\"requires_payment_method\",\"last_payment_error\":"
                        "{\"code\":\"card_declined\",\"decline_code\":\"insufficient_funds\"}}",
                        r.json);
  th_response_free(&r);
  /* The decline is final for this key: a retry replays it. */
  pf_call(&srv, token, "POST", "/api/v1/payments", K("declined-1"),
          "{\"amount\":3000,\"currency\":\"USD\",\"payment_type\":\"other\","
          "\"payment_method_id\":\"pm_card_chargeDeclinedInsufficientFunds\",\"confirm\":true}",
          &r);
  assert_int_equal(r.status, 402);
  assert_string_equal(th_header(&r, "Idempotent-Replayed"), "true");
  th_response_free(&r);
  /* An injected decline of an otherwise good card. */
  fs_inject(&fake, "POST", "/v1/payment_intents", "card_declined", 1, 0);
  pf_call(&srv, token, "POST", "/api/v1/payments", K("declined-2"), visa_body, &r);
  th_assert_error(&r, 402, "card_declined");
  th_assert_json_subset("{\"error\":{\"decline_code\":\"generic_decline\"}}", r.json);
  th_response_free(&r);
  /* Paying the declined payment with another card works. */
  snprintf(path, sizeof(path), "/api/v1/payments/%s/confirm", id);
  pf_call(&srv, token, "POST", path, NULL, "{\"payment_method_id\":\"pm_card_visa\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"succeeded\",\"last_payment_error\":null}", r.json);
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_create_and_charge),
    cmocka_unit_test(test_create_without_confirm),
    cmocka_unit_test(test_zero_and_three_decimal_currencies),
    cmocka_unit_test(test_validation_every_field),
    cmocka_unit_test(test_idempotent_replay_and_mismatch),
    cmocka_unit_test(test_ten_concurrent_identical_requests),
    cmocka_unit_test(test_timeout_then_internal_retry_charges_once),
    cmocka_unit_test(test_timeout_then_client_retry_charges_once),
    cmocka_unit_test(test_rate_limited_then_retried),
    cmocka_unit_test(test_declined_card),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

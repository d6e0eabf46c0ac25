/* Integration: POST /api/v1/webhooks/stripe - signatures (tampered, stale, future,
 * missing, rotated secrets), events stored once (duplicates change nothing),
 * forward-only application (late and out-of-order events), re-fetching when in
 * doubt, notices queued, and the fake's automatic sender end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "payment_fixtures.h"
#include "payments/stripe/stripe.h"

static struct th_server srv;
static struct fs_fake fake;
static char *payer;
static char payer_id[37];

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  th_start(&srv);
  fs_webhooks(&fake, &srv, 0);
  payer = th_user(&srv, "payer", NULL, payer_id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(payer);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

/* Posts body with the given Stripe-Signature header (NULL: none). */
static void post_event(const char *body, const char *signature, struct th_response *r) {
  char header[1024];
  const char *headers[] = {header, NULL};
  snprintf(header, sizeof(header), "Stripe-Signature: %s", signature != NULL ? signature : "");
  th_request(&srv, "POST", "/api/v1/webhooks/stripe", signature != NULL ? headers : NULL, body,
             r);
}

/* A signature of body at now + offset with secret. */
static const char *sign(const char *secret, const char *body, long offset) {
  static char out[256];
  h_stripe_sign(secret, (long)time(NULL) + offset, body, strlen(body), out, sizeof(out));
  return out;
}

static char *other_event(void) {
  char id[37];
  h_uuid_v4(id);
  return h_sprintf("{\"id\":\"evt_%s\",\"object\":\"event\",\"type\":\"customer.created\","
                   "\"created\":%ld,\"data\":{\"object\":{\"id\":\"cus_x\",\"object\":"
                   "\"customer\"}}}", id, (long)time(NULL));
}

static void test_signatures(void **state) {
  (void)state;
  char *body = other_event();
  struct th_response r;
  post_event(body, sign(FS_WEBHOOK_SECRET, body, 0), &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"received\":true,\"duplicate\":false,\"outcome\":\"ignored\"}", r.json);
  th_response_free(&r);

  char *tampered = h_strdup(body);
  strstr(tampered, "cus_x")[4] = 'y'; /* same length and shape, other bytes */
  post_event(tampered, sign(FS_WEBHOOK_SECRET, body, 0), &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  free(tampered);

  char *fresh = other_event();
  static const struct {
    long offset;
    const char *secret;
  } bad[] = {{-301, FS_WEBHOOK_SECRET}, {-3600, FS_WEBHOOK_SECRET}, {301, FS_WEBHOOK_SECRET},
             {86400, FS_WEBHOOK_SECRET}, {0, "whsec_someone_else"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    post_event(fresh, sign(bad[i].secret, fresh, bad[i].offset), &r);
    th_assert_error(&r, 400, "invalid_signature");
    th_response_free(&r);
  }
  post_event(fresh, NULL, &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  post_event(fresh, "t=abc,v1=00", &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  char rotated[600];
  char good[256];
  snprintf(good, sizeof(good), "%s", sign(FS_WEBHOOK_SECRET, fresh, -250));
  snprintf(rotated, sizeof(rotated), "%s,v1=%064d,v0=abc", good, 0);
  post_event(fresh, rotated, &r); /* any v1 may match, within tolerance */
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  /* A signed body that is not an event. */
  post_event("{\"hello\":1}", sign(FS_WEBHOOK_SECRET, "{\"hello\":1}", 0), &r);
  th_assert_error(&r, 400, "missing_field");
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   3); /* id, type, data */
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_events WHERE payload->>'id' ="
                              " $1::jsonb->>'id'", fresh), 1);
  free(body);
  free(fresh);
}

/* Creates a payment confirmed with pm_card_processing (processing); pi receives its
 * provider intent id; returns the payment id (static). */
static const char *processing_payment(char pi[64]) {
  static char id[37];
  snprintf(id, sizeof(id), "%s",
           pf_pay(&srv, payer, "{\"amount\":1800,\"currency\":\"USD\",\"payment_type\":"
                               "\"venue_booking\",\"payment_method_id\":\"pm_card_processing\","
                               "\"confirm\":true}", 201));
  char *v = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid", id);
  snprintf(pi, 64, "%s", v);
  free(v);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "processing");
  return id;
}

static void advance(const char *pi, const char *action) {
  char path[160];
  snprintf(path, sizeof(path), "/_fake/payment_intents/%s/%s", pi, action);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
}

/* The "outcome" word of delivery i. */
static const char *outcome(json_t *deliveries, size_t i) {
  static char word[64];
  json_t *d = json_array_get(deliveries, i);
  assert_int_equal(json_integer_value(json_object_get(d, "status")), 200);
  json_t *body = json_loads(th_str(d, "body"), 0, NULL);
  snprintf(word, sizeof(word), "%s", th_str(body, "outcome"));
  json_decref(body);
  return word;
}

static void test_duplicate_event_changes_nothing(void **state) {
  (void)state;
  char pi[64];
  const char *id = processing_payment(pi);
  char pid[37];
  snprintf(pid, sizeof(pid), "%s", id);
  advance(pi, "succeed");
  const char *evt = fs_event_id(&fake, pi, "payment_intent.succeeded");
  char evt_id[128];
  snprintf(evt_id, sizeof(evt_id), "%s", evt);
  const char *ids[] = {evt_id};
  json_t *d = fs_deliver(&fake, ids, 1, "\"times\":3");
  assert_string_equal(outcome(d, 0), "applied");
  assert_string_equal(outcome(d, 1), "duplicate");
  assert_string_equal(outcome(d, 2), "duplicate");
  json_decref(d);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "succeeded");
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_events WHERE id = $1", evt_id), 1);
  pf_assert_db("SELECT outcome FROM payment_events WHERE id = $1", evt_id, "applied");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                              " 'payment_receipt' AND data->>'payment_id' = $1", pid), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action ="
                              " 'payment.status_changed' AND actor_type = 'system'", pid), 1);
}

static void test_out_of_order_events(void **state) {
  (void)state;
  char pi[64], pid[37];
  snprintf(pid, sizeof(pid), "%s", processing_payment(pi));
  advance(pi, "succeed");
  char succeeded[128], processing[128], created[128];
  snprintf(succeeded, sizeof(succeeded), "%s", fs_event_id(&fake, pi, "payment_intent.succeeded"));
  snprintf(processing, sizeof(processing), "%s",
           fs_event_id(&fake, pi, "payment_intent.processing"));
  snprintf(created, sizeof(created), "%s", fs_event_id(&fake, pi, "payment_intent.created"));
  const char *ids[] = {succeeded, processing, created};
  json_t *d = fs_deliver(&fake, ids, 3, NULL);
  assert_string_equal(outcome(d, 0), "applied");
  assert_string_equal(outcome(d, 1), "stale"); /* a late processing never undoes succeeded */
  assert_string_equal(outcome(d, 2), "stale");
  json_decref(d);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "succeeded");
}

static void test_backward_event_refetches(void **state) {
  (void)state;
  char pi[64], pid[37];
  /* The event says requires_action while we know processing: the fetch says succeeded. */
  snprintf(pid, sizeof(pid), "%s", processing_payment(pi));
  advance(pi, "require_action");
  advance(pi, "succeed");
  char stale[128];
  snprintf(stale, sizeof(stale), "%s", fs_event_id(&fake, pi, "payment_intent.requires_action"));
  long gets = fs_calls(&fake, "GET /v1/payment_intents/:id");
  const char *ids[] = {stale};
  json_t *d = fs_deliver(&fake, ids, 1, NULL);
  assert_string_equal(outcome(d, 0), "refetched");
  json_decref(d);
  assert_int_equal(fs_calls(&fake, "GET /v1/payment_intents/:id"), gets + 1);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "succeeded");

  /* An asynchronous failure after processing: applied after a fetch, failure notice. */
  snprintf(pid, sizeof(pid), "%s", processing_payment(pi));
  advance(pi, "fail");
  char failed[128];
  snprintf(failed, sizeof(failed), "%s", fs_event_id(&fake, pi, "payment_intent.payment_failed"));
  ids[0] = failed;
  d = fs_deliver(&fake, ids, 1, NULL);
  assert_string_equal(outcome(d, 0), "refetched");
  json_decref(d);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "requires_payment_method");
  pf_assert_db("SELECT last_payment_error->>'decline_code' FROM payments WHERE id = $1::uuid", pid,
               "generic_decline");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                              " 'payment_failed' AND data->>'payment_id' = $1", pid), 1);
}

static void test_refetch_failure_is_retried_later(void **state) {
  (void)state;
  char pi[64], pid[37];
  snprintf(pid, sizeof(pid), "%s", processing_payment(pi));
  advance(pi, "fail");
  char failed[128];
  snprintf(failed, sizeof(failed), "%s", fs_event_id(&fake, pi, "payment_intent.payment_failed"));
  fs_inject(&fake, "GET", "/v1/payment_intents/", "server_error", 1, 0);
  const char *ids[] = {failed};
  json_t *d = fs_deliver(&fake, ids, 1, NULL);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(d, 0), "status")), 503);
  json_decref(d);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "processing");
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_events WHERE id = $1"
                              " AND processed_at IS NULL", failed), 1);
  d = fs_deliver(&fake, ids, 1, NULL); /* Stripe delivers it again */
  assert_string_equal(outcome(d, 0), "refetched");
  json_decref(d);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", pid, "requires_payment_method");
}

static void test_fake_sender_signature_failures(void **state) {
  (void)state;
  char pi[64];
  processing_payment(pi);
  char evt[128];
  snprintf(evt, sizeof(evt), "%s", fs_event_id(&fake, pi, "payment_intent.processing"));
  const char *ids[] = {evt};
  static const char *const options[] = {"\"tamper\":true", "\"timestamp_offset\":-400",
                                        "\"timestamp_offset\":400",
                                        "\"secret\":\"whsec_wrong\""};
  for (size_t i = 0; i < 4; i++) {
    json_t *d = fs_deliver(&fake, ids, 1, options[i]);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(d, 0), "status")), 400);
    json_decref(d);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM payment_events WHERE id = $1", evt), 0);
}

static void test_unknown_object_and_automatic_sender(void **state) {
  (void)state;
  char id[37];
  h_uuid_v4(id);
  char *body = h_sprintf("{\"id\":\"evt_%s\",\"type\":\"payment_intent.succeeded\",\"data\":"
                         "{\"object\":{\"id\":\"pi_unknown_%s\",\"object\":\"payment_intent\","
                         "\"status\":\"succeeded\",\"amount\":100}}}", id, id);
  struct th_response r;
  post_event(body, sign(FS_WEBHOOK_SECRET, body, 0), &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"outcome\":\"unknown_object\"}", r.json);
  th_response_free(&r);
  free(body);
  /* With automatic delivery the succeeded event reaches the API on its own. */
  fs_webhooks(&fake, &srv, 1);
  char pi[64], pid[37];
  snprintf(pid, sizeof(pid), "%s", processing_payment(pi));
  advance(pi, "succeed");
  char *status = NULL;
  for (int i = 0; i < 100; i++) {
    free(status);
    status = th_sql_text("SELECT status FROM payments WHERE id = $1::uuid", pid);
    if (strcmp(status, "succeeded") == 0) {
      break;
    }
    usleep(50 * 1000);
  }
  assert_string_equal(status, "succeeded");
  free(status);
  fs_webhooks(&fake, &srv, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_signatures),
    cmocka_unit_test(test_duplicate_event_changes_nothing),
    cmocka_unit_test(test_out_of_order_events),
    cmocka_unit_test(test_backward_event_refetches),
    cmocka_unit_test(test_refetch_failure_is_retried_later),
    cmocka_unit_test(test_fake_sender_signature_failures),
    cmocka_unit_test(test_unknown_object_and_automatic_sender),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: disputes through signed webhooks against the fake Stripe -
 * charge.dispute.created -> updated -> closed (lost; and won, delivered out of order)
 * with the payment's status, audit rows, admin e-mails and replays; the admin list and
 * its pagination; evidence submission (accepted, refused by the provider, provider
 * down, twice); bad input of both endpoints; and the dispute outcomes of a ledger run
 * of herald-reconcile; how GET /admin/payments/summary counts them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "core/alloc.h"
#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *payer, *admin;
static char payer_id[37];

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_STRIPE_TIMEOUT_MS", "2000", 1);
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

/* A succeeded payment of amount USD cents: its id in id, its intent in pi. */
static void paid(long amount, char id[37], char pi[64]) {
  char body[200];
  snprintf(body, sizeof(body),
           "{\"amount\":%ld,\"currency\":\"USD\",\"payment_type\":\"venue_booking\","
           "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}",
           amount);
  snprintf(id, 37, "%s", pf_pay(&srv, payer, body, 201));
  char *v = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid", id);
  snprintf(pi, 64, "%s", v);
  free(v);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "succeeded");
}

/* Opens a dispute at the fake on pi (body: extra JSON members or NULL); its id in du. */
static void open_dispute(const char *pi, const char *body, char du[64]) {
  char path[160];
  snprintf(path, sizeof(path), "/_fake/payment_intents/%s/dispute", pi);
  json_t *out = NULL;
  assert_int_equal(fs_call(&fake, "POST", path, body != NULL ? body : "{}", &out), 200);
  snprintf(du, 64, "%s", th_str(out, "id"));
  json_decref(out);
}

static void advance(const char *du, const char *action) {
  char path[160];
  snprintf(path, sizeof(path), "/_fake/disputes/%s/%s", du, action);
  assert_int_equal(fs_call(&fake, "POST", path, "{}", NULL), 200);
}

/* Delivers the first event of type about object times times; returns the outcome
 * word of delivery i (static). */
static const char *deliver(const char *object, const char *type, int times, int i) {
  static char word[64];
  char evt[128], options[32];
  snprintf(evt, sizeof(evt), "%s", fs_event_id(&fake, object, type));
  snprintf(options, sizeof(options), "\"times\":%d", times);
  const char *ids[] = {evt};
  json_t *d = fs_deliver(&fake, ids, 1, options);
  json_t *one = json_array_get(d, (size_t)i);
  assert_int_equal(json_integer_value(json_object_get(one, "status")), 200);
  json_t *body = json_loads(th_str(one, "body"), 0, NULL);
  snprintf(word, sizeof(word), "%s", th_str(body, "outcome"));
  json_decref(body);
  json_decref(d);
  return word;
}

/* Herald's dispute id of provider dispute du (static). */
static const char *dispute_id(const char *du) {
  static char id[37];
  char *v = th_sql_text("SELECT id::text FROM disputes WHERE provider_dispute_id = $1", du);
  snprintf(id, sizeof(id), "%s", v);
  free(v);
  return id;
}

static long admin_mails(const char *template_key, const char *id) {
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM notifications WHERE template_key = '%s'"
           " AND data->>'dispute_id' = $1",
           template_key);
  return th_sql_long(sql, id);
}

static void test_created_updated_closed_lost(void **state) {
  (void)state;
  char id[37], pi[64], du[64], did[37];
  paid(4200, id, pi);
  open_dispute(pi, "{\"reason\":\"product_not_received\",\"amount\":4000}", du);
  assert_string_equal(deliver(du, "charge.dispute.created", 3, 0), "applied");
  assert_string_equal(deliver(du, "charge.dispute.created", 1, 0), "duplicate");
  snprintf(did, sizeof(did), "%s", dispute_id(du));
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "needs_response");
  pf_assert_db("SELECT reason || ' ' || amount || ' ' || currency FROM disputes"
               " WHERE id = $1::uuid", did, "product_not_received 4000 USD");
  assert_int_equal(th_sql_long("SELECT count(*) FROM disputes WHERE id = $1::uuid AND"
                               " evidence_due_by > now() + interval '6 days'", did), 1);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "disputed");
  long admins = th_sql_long("SELECT count(*) FROM users WHERE role = 'admin' AND status ="
                            " 'active' AND $1::text IS NOT NULL", "x");
  assert_true(admins >= 1);
  assert_int_equal(admin_mails("dispute_opened", did), admins); /* once, whatever the replays */
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action ="
                               " 'payment.status_changed' AND details->>'to' = 'disputed'", id), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action ="
                               " 'dispute.created'", did), 1);

  advance(du, "under_review");
  assert_string_equal(deliver(du, "charge.dispute.updated", 1, 0), "applied");
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "under_review");
  advance(du, "lost");
  assert_string_equal(deliver(du, "charge.dispute.closed", 2, 1), "duplicate");
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "lost");
  assert_int_equal(th_sql_long("SELECT count(*) FROM disputes WHERE id = $1::uuid AND closed_at"
                               " IS NOT NULL", did), 1);
  assert_int_equal(admin_mails("dispute_closed", did), admins);
  /* A late payment_intent.succeeded never undoes disputed. */
  assert_string_equal(deliver(pi, "payment_intent.succeeded", 1, 0), "stale");
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "disputed");
  /* The API shows it. */
  struct th_response r;
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/payments/%s", id);
  pf_call(&srv, payer, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"disputed\"}", r.json);
  th_response_free(&r);
}

static void test_won_out_of_order(void **state) {
  (void)state;
  char id[37], pi[64], du[64], did[37];
  paid(1500, id, pi);
  open_dispute(pi, "{\"reason\":\"fraudulent\"}", du);
  advance(du, "under_review");
  advance(du, "won");
  /* The closing event arrives first: the dispute is recorded as won at once. */
  assert_string_equal(deliver(du, "charge.dispute.closed", 1, 0), "applied");
  snprintf(did, sizeof(did), "%s", dispute_id(du));
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "won");
  assert_string_equal(deliver(du, "charge.dispute.created", 1, 0), "stale");
  assert_string_equal(deliver(du, "charge.dispute.updated", 1, 0), "stale");
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "won");
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "disputed");
  assert_int_equal(admin_mails("dispute_opened", did), admin_mails("dispute_closed", did));
  assert_true(admin_mails("dispute_closed", did) >= 1);
}

static void test_unknown_payment_and_bad_object(void **state) {
  (void)state;
  char evt[128];
  json_t *out = NULL;
  /* A dispute of an intent Herald never made. */
  const char *made = "{\"type\":\"charge.dispute.created\",\"object\":{\"id\":\"du_elsewhere\","
                     "\"object\":\"dispute\",\"amount\":100,\"currency\":\"usd\",\"status\":"
                     "\"needs_response\",\"reason\":\"general\",\"payment_intent\":\"pi_nope\"}}";
  assert_int_equal(fs_call(&fake, "POST", "/_fake/events", made, &out), 200);
  snprintf(evt, sizeof(evt), "%s", th_str(out, "id"));
  json_decref(out);
  const char *ids[] = {evt};
  json_t *d = fs_deliver(&fake, ids, 1, NULL);
  assert_non_null(strstr(th_str(json_array_get(d, 0), "body"), "unknown_object"));
  json_decref(d);
  /* Not a dispute object, or a status Herald does not know: ignored, nothing written. */
  const char *bad = "{\"type\":\"charge.dispute.updated\",\"object\":{\"id\":\"du_bad\","
                    "\"object\":\"dispute\",\"amount\":100,\"currency\":\"usd\",\"status\":"
                    "\"charge_refunded\",\"payment_intent\":\"pi_nope\"}}";
  assert_int_equal(fs_call(&fake, "POST", "/_fake/events", bad, &out), 200);
  snprintf(evt, sizeof(evt), "%s", th_str(out, "id"));
  json_decref(out);
  d = fs_deliver(&fake, ids, 1, NULL);
  assert_non_null(strstr(th_str(json_array_get(d, 0), "body"), "\"ignored\""));
  json_decref(d);
  assert_int_equal(th_sql_long("SELECT count(*) FROM disputes WHERE provider_dispute_id IN"
                               " ('du_elsewhere', 'du_bad', $1)", "x"), 0);
}

/* POST /admin/disputes/{id}/evidence as token with body. */
static void evidence(const char *token, const char *id, const char *body, struct th_response *r) {
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/admin/disputes/%s/evidence", id);
  pf_call(&srv, token, "POST", path, NULL, body, r);
}

/* A dispute opened and delivered; Herald's id in did, the provider's in du. */
static void opened(char did[37], char du[64]) {
  char id[37], pi[64];
  paid(2600, id, pi);
  open_dispute(pi, NULL, du);
  assert_string_equal(deliver(du, "charge.dispute.created", 1, 0), "applied");
  snprintf(did, 37, "%s", dispute_id(du));
}

static void test_evidence(void **state) {
  (void)state;
  char did[37], du[64];
  opened(did, du);
  struct th_response r;
  /* Provider down: nothing recorded, the admin may retry. */
  fs_inject(&fake, "POST", "/v1/disputes/", "server_error", 1, 0);
  evidence(admin, did, "{\"text\":\"Delivered on 3 May, signed by the customer.\"}", &r);
  th_assert_error(&r, 503, "provider_unavailable");
  assert_non_null(th_header(&r, "Retry-After"));
  th_response_free(&r);
  pf_assert_db("SELECT coalesce(evidence_text, 'none') FROM disputes WHERE id = $1::uuid", did,
               "none");
  evidence(admin, did, "{\"text\":\"Delivered on 3 May, signed by the customer.\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"dispute\",\"status\":\"under_review\",\"has_evidence\":true,"
                        "\"evidence_text\":\"Delivered on 3 May, signed by the customer.\"}",
                        r.json);
  assert_string_equal(th_str(r.json, "id"), did);
  assert_non_null(th_str(r.json, "evidence_submitted_at"));
  th_response_free(&r);
  /* The fake received the text and the submission. */
  json_t *reqs = NULL;
  char path[160];
  snprintf(path, sizeof(path), "/_fake/requests?path=/v1/disputes/%s", du);
  assert_int_equal(fs_call(&fake, "GET", path, NULL, &reqs), 200);
  json_t *last = json_array_get(json_object_get(reqs, "data"),
                                json_array_size(json_object_get(reqs, "data")) - 1);
  json_t *params = json_object_get(last, "params");
  assert_string_equal(th_str(json_object_get(params, "evidence"), "uncategorized_text"),
                      "Delivered on 3 May, signed by the customer.");
  assert_string_equal(th_str(params, "submit"), "true");
  assert_non_null(th_str(last, "idempotency_key"));
  json_decref(reqs);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action ="
                               " 'dispute.evidence_submitted' AND actor_type = 'user'", did), 1);
  /* Under review: no second submission. */
  evidence(admin, did, "{\"text\":\"More.\"}", &r);
  th_assert_error(&r, 409, "dispute_not_open");
  th_response_free(&r);
}

static void test_evidence_refused_by_provider(void **state) {
  (void)state;
  char did[37], du[64];
  opened(did, du);
  advance(du, "lost"); /* closed at Stripe; the event has not arrived yet */
  struct th_response r;
  evidence(admin, did, "{\"text\":\"Too late.\"}", &r);
  th_assert_error(&r, 422, "dispute_not_accepting_evidence");
  th_response_free(&r);
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "needs_response");
}

static void test_evidence_bad_input(void **state) {
  (void)state;
  char did[37], du[64];
  opened(did, du);
  long calls = fs_calls(&fake, "POST /v1/disputes/:id");
  struct th_response r;
  static const char *const bad[][3] = {
    {"{}", "text", "missing_field"},
    {"{\"text\":\"\"}", "text", "empty"},
    {"{\"text\":42}", "text", "invalid_type"},
    {"{\"text\":null}", "text", "missing_field"},
    {"{\"text\":\"x\",\"submit\":false}", "submit", "unknown_field"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    evidence(admin, did, bad[i][0], &r);
    th_assert_field_error(&r, bad[i][1], bad[i][2]);
    th_response_free(&r);
  }
  char *longer = h_malloc(20040);
  memcpy(longer, "{\"text\":\"", 9);
  memset(longer + 9, 'a', 20001);
  memcpy(longer + 9 + 20001, "\"}", 3);
  evidence(admin, did, longer, &r);
  th_assert_field_error(&r, "text", "too_long");
  th_response_free(&r);
  free(longer);
  evidence(admin, did, "[1,2]", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  evidence(admin, did, "{\"text\":", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  evidence(admin, "not-a-uuid", "{\"text\":\"x\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  evidence(admin, "00000000-0000-4000-8000-000000000000", "{\"text\":\"x\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  evidence(payer, did, "{\"text\":\"x\"}", &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  evidence(NULL, did, "{\"text\":\"x\"}", &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  pf_assert_db("SELECT status FROM disputes WHERE id = $1::uuid", did, "needs_response");
  assert_int_equal(fs_calls(&fake, "POST /v1/disputes/:id"), calls); /* none reached Stripe */
}

static void test_list(void **state) {
  (void)state;
  char a[37], b[37], du[64];
  opened(a, du);
  opened(b, du);
  struct th_response r;
  pf_call(&srv, admin, "GET", "/api/v1/admin/disputes?limit=1", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"list\",\"has_more\":true}", r.json);
  json_t *first = json_array_get(json_object_get(r.json, "data"), 0);
  assert_string_equal(th_str(first, "id"), b); /* newest first */
  th_assert_json_subset("{\"object\":\"dispute\",\"status\":\"needs_response\",\"amount\":2600,"
                        "\"currency\":\"USD\",\"provider\":\"stripe\",\"has_evidence\":false}",
                        first);
  assert_non_null(th_str(first, "evidence_due_by"));
  th_response_free(&r);
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/admin/disputes?limit=1&starting_after=%s", b);
  pf_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(json_array_get(json_object_get(r.json, "data"), 0), "id"), a);
  th_response_free(&r);
  pf_call(&srv, admin, "GET", "/api/v1/admin/disputes?status=lost&limit=100", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *it;
  size_t i;
  json_array_foreach(json_object_get(r.json, "data"), i, it) {
    assert_string_equal(th_str(it, "status"), "lost");
  }
  th_response_free(&r);
  static const char *const bad[][3] = {
    {"/api/v1/admin/disputes?limit=0", "limit", "invalid_limit"},
    {"/api/v1/admin/disputes?limit=101", "limit", "invalid_limit"},
    {"/api/v1/admin/disputes?status=open", "status", "invalid_status"},
    {"/api/v1/admin/disputes?starting_after=abc", "starting_after", "invalid_id"},
  };
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    pf_call(&srv, admin, "GET", bad[k][0], NULL, NULL, &r);
    th_assert_field_error(&r, bad[k][1], bad[k][2]);
    th_response_free(&r);
  }
  pf_call(&srv, payer, "GET", "/api/v1/admin/disputes", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
}

/* Runs herald-reconcile with args; returns its exit status. */
static int run_cli(const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", HERALD_RECONCILE_BIN, args);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_ledger_counts_outcomes(void **state) {
  (void)state;
  time_t now = time(NULL), day = now - now % 86400;
  char since[16], body[64], run[37], path[128];
  strftime(since, sizeof(since), "%Y-%m-%d", gmtime(&day));
  snprintf(body, sizeof(body), "{\"since\":\"%s\"}", since);
  struct th_response r;
  pf_call(&srv, admin, "POST", "/api/v1/admin/reconciliations", NULL, body, &r);
  assert_int_equal(r.status, 202);
  snprintf(run, sizeof(run), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  assert_int_equal(run_cli("--once"), 0);
  snprintf(path, sizeof(path), "/api/v1/admin/reconciliations/%s", run);
  pf_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"succeeded\"}", r.json);
  json_t *d = json_object_get(json_object_get(r.json, "totals"), "disputes");
  long opened = th_sql_long("SELECT count(*) FROM disputes WHERE created_at >= date_trunc('day',"
                            " now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND $1 <> ''", "x");
  long lost = th_sql_long("SELECT count(*) FROM disputes WHERE status = 'lost' AND $1 <> ''", "x");
  long won = th_sql_long("SELECT count(*) FROM disputes WHERE status = 'won' AND $1 <> ''", "x");
  assert_true(opened >= 6 && lost >= 1 && won >= 1);
  assert_int_equal(json_integer_value(json_object_get(d, "opened")), opened);
  assert_int_equal(json_integer_value(json_object_get(d, "lost")), lost);
  assert_int_equal(json_integer_value(json_object_get(d, "won")), won);
  assert_int_equal(json_integer_value(json_object_get(d, "lost_amount")),
                   th_sql_long("SELECT coalesce(sum(amount), 0) FROM disputes WHERE status ="
                               " 'lost' AND $1 <> ''", "x"));
  /* A disputed payment succeeded at the provider: no status difference is reported. */
  json_t *it;
  size_t i;
  json_array_foreach(json_object_get(r.json, "items"), i, it) {
    assert_string_not_equal(th_str(it, "kind"), "status_mismatch");
  }
  th_response_free(&r);
}


/* The USD figures of GET /admin/payments/summary over the last day (a new reference). */
static json_t *usd_summary(void) {
  struct th_response r;
  pf_call(&srv, admin, "GET", "/api/v1/admin/payments/summary", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *all = json_object_get(r.json, "by_currency"), *one, *usd = NULL;
  size_t i;
  json_array_foreach(all, i, one) {
    if (strcmp(th_str(one, "currency"), "USD") == 0) {
      usd = json_incref(one);
    }
  }
  th_response_free(&r);
  return usd != NULL ? usd : json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:{s:i,s:i},s:i}",
                                       "currency", "USD", "succeeded_count", 0, "volume", 0,
                                       "refund_count", 0, "refunded", 0, "dispute_count", 0,
                                       "disputed", 0, "fees", "provider", 0, "platform", 0,
                                       "net", 0);
}

static long figure(json_t *o, const char *key) {
  return (long)json_integer_value(json_object_get(o, key));
}

static long fees(json_t *o) {
  json_t *f = json_object_get(o, "fees");
  return figure(f, "provider") + figure(f, "platform");
}

/* A disputed payment stays collected; a lost or open dispute's amount comes off the net, a
 * won one's does not; both are counted. */
static void test_summary_counts_disputes(void **state) {
  (void)state;
  json_t *before = usd_summary();
  char id[37], pi[64], du[64];
  paid(3000, id, pi);
  open_dispute(pi, "{\"reason\":\"fraudulent\",\"amount\":2500}", du);
  advance(du, "lost");
  assert_string_equal(deliver(du, "charge.dispute.closed", 1, 0), "applied");
  paid(1000, id, pi);
  open_dispute(pi, "{\"reason\":\"general\"}", du);
  advance(du, "won");
  assert_string_equal(deliver(du, "charge.dispute.closed", 1, 0), "applied");
  json_t *after = usd_summary();
  assert_int_equal(figure(after, "succeeded_count") - figure(before, "succeeded_count"), 2);
  assert_int_equal(figure(after, "volume") - figure(before, "volume"), 4000);
  assert_int_equal(figure(after, "dispute_count") - figure(before, "dispute_count"), 2);
  assert_int_equal(figure(after, "disputed") - figure(before, "disputed"), 2500);
  assert_int_equal(figure(after, "net"), figure(after, "volume") - figure(after, "refunded") -
                                             figure(after, "disputed") - fees(after));
  json_decref(before);
  json_decref(after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_created_updated_closed_lost),
    cmocka_unit_test(test_won_out_of_order),
    cmocka_unit_test(test_unknown_payment_and_bad_object),
    cmocka_unit_test(test_evidence),
    cmocka_unit_test(test_evidence_refused_by_provider),
    cmocka_unit_test(test_evidence_bad_input),
    cmocka_unit_test(test_list),
    cmocka_unit_test(test_ledger_counts_outcomes),
    cmocka_unit_test(test_summary_counts_disputes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: plans and subscriptions against the fake Stripe - admin plans mirrored
 * as products and prices (create, replay, rename, archive, bad input); subscribe with a
 * saved card, renewals through invoice.paid; a trial, cancel at the period's end, resume,
 * the end of the period; plan changes; dunning (invoice.payment_failed x N: the user
 * told at each attempt, past_due, then canceled at Stripe after HERALD_BILLING_MAX_RETRIES);
 * replayed events; an admin's sync; bad input of every endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *admin;

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_BILLING_MAX_RETRIES", "3", 1);
  th_start(&srv);
  fs_webhooks(&fake, &srv, 0);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

static const char *fresh_key(void) {
  static char header[80];
  char id[37];
  h_uuid_v4(id);
  snprintf(header, sizeof(header), "%s", id);
  return header;
}

/* Creates a plan (body: JSON) as admin; its id into id. */
static void plan(const char *body, char id[37]) {
  struct th_response r;
  pf_call(&srv, admin, "POST", "/api/v1/admin/plans", fresh_key(), body, &r);
  if (r.status != 201) {
    fail_msg("plan %s: %ld %s", body, r.status, r.body);
  }
  snprintf(id, 37, "%s", th_str(r.json, "id"));
  th_response_free(&r);
}

/* A user with (pm not NULL) a saved default card; token returned (caller frees). */
static char *subscriber(const char *pm, char uid[37]) {
  char *token = th_user(&srv, "subscriber", NULL, uid);
  if (pm != NULL) {
    char body[120];
    snprintf(body, sizeof(body), "{\"provider_payment_method_id\":\"%s\"}", pm);
    struct th_response r;
    pf_call(&srv, token, "POST", "/api/v1/payment-methods", NULL, body, &r);
    assert_int_equal(r.status, 201);
    th_response_free(&r);
  }
  return token;
}

/* Subscribes token to plan_id; want the status; the subscription's id into id. */
static void subscribe(const char *token, const char *plan_id, long want, char id[37],
                      struct th_response *keep) {
  char body[96];
  snprintf(body, sizeof(body), "{\"plan_id\":\"%s\"}", plan_id);
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/subscriptions", fresh_key(), body, &r);
  if (r.status != want) {
    fail_msg("subscribe: %ld %s", r.status, r.body);
  }
  if (id != NULL) {
    snprintf(id, 37, "%s", th_str(r.json, "id") != NULL ? th_str(r.json, "id") : "");
  }
  if (keep != NULL) {
    *keep = r;
  } else {
    th_response_free(&r);
  }
}

/* POST /api/v1/subscriptions/{id}/<what> with body. */
static void act(const char *token, const char *id, const char *what, const char *body,
                struct th_response *r) {
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/subscriptions/%s/%s", id, what);
  pf_call(&srv, token, "POST", path, NULL, body, r);
}

/* The provider id of subscription id (static). */
static const char *provider_sub(const char *id) {
  static char out[64];
  char *v = th_sql_text("SELECT provider_subscription_id FROM subscriptions WHERE id = $1::uuid",
                        id);
  snprintf(out, sizeof(out), "%s", v);
  free(v);
  return out;
}

/* Delivers the latest event of type about object; returns its outcome (static). */
static const char *deliver_last(const char *object, const char *type, int times) {
  static char word[64];
  json_t *events = fs_events(&fake, object, type);
  size_t n = json_array_size(events);
  assert_true(n > 0);
  char evt[128], options[32];
  snprintf(evt, sizeof(evt), "%s", th_str(json_array_get(events, n - 1), "id"));
  json_decref(events);
  snprintf(options, sizeof(options), "\"times\":%d", times);
  const char *ids[] = {evt};
  json_t *d = fs_deliver(&fake, ids, 1, options);
  json_t *last = json_array_get(d, (size_t)times - 1);
  assert_int_equal(json_integer_value(json_object_get(last, "status")), 200);
  json_t *body = json_loads(th_str(last, "body"), 0, NULL);
  snprintf(word, sizeof(word), "%s", th_str(body, "outcome"));
  json_decref(body);
  json_decref(d);
  return word;
}

/* POST /_fake/<path> with body; the answer's string member name into out (may be NULL). */
static void fake_post(const char *path, const char *body, const char *name, char out[64]) {
  json_t *j = NULL;
  assert_int_equal(fs_call(&fake, "POST", path, body, &j), 200);
  if (out != NULL) {
    snprintf(out, 64, "%s", th_str(j, name));
  }
  json_decref(j);
}

static void test_plans(void **state) {
  (void)state;
  long products = fs_created(&fake, "product"), prices = fs_created(&fake, "price");
  struct th_response r;
  const char *key = fresh_key();
  char k[80];
  snprintf(k, sizeof(k), "%s", key);
  const char *body = "{\"name\":\"Club monthly\",\"amount\":1500,\"currency\":\"usd\","
                     "\"interval\":\"month\",\"trial_days\":7}";
  pf_call(&srv, admin, "POST", "/api/v1/admin/plans", k, body, &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"plan\",\"name\":\"Club monthly\",\"amount\":1500,"
                        "\"currency\":\"USD\",\"interval\":\"month\",\"interval_count\":1,"
                        "\"trial_days\":7,\"active\":true,\"provider\":\"stripe\"}", r.json);
  char id[37];
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  assert_true(strncmp(th_str(r.json, "provider_price_id"), "price_", 6) == 0);
  th_response_free(&r);
  pf_call(&srv, admin, "POST", "/api/v1/admin/plans", k, body, &r); /* replayed */
  assert_int_equal(r.status, 201);
  assert_string_equal(th_str(r.json, "id"), id);
  th_response_free(&r);
  assert_int_equal(fs_created(&fake, "product"), products + 1);
  assert_int_equal(fs_created(&fake, "price"), prices + 1);
  /* Renamed and archived, at Stripe too. */
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", id);
  pf_call(&srv, admin, "PATCH", path, NULL, "{\"name\":\"Club monthly (2026)\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"name\":\"Club monthly (2026)\",\"active\":true}", r.json);
  th_response_free(&r);
  pf_call(&srv, admin, "PATCH", path, NULL, "{\"active\":false,\"trial_days\":0}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"active\":false,\"trial_days\":0}", r.json);
  th_response_free(&r);
  assert_int_equal(fs_calls(&fake, "POST /v1/products/:id"), 2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action"
                               " IN ('plan.created', 'plan.updated')", id), 3);
  char uid[37];
  char *user = subscriber(NULL, uid);
  pf_call(&srv, user, "GET", "/api/v1/plans?limit=100", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, id)); /* archived: not offered */
  th_response_free(&r);
  pf_call(&srv, admin, "GET", "/api/v1/admin/plans?limit=100", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, id));
  th_response_free(&r);
  pf_call(&srv, user, "GET", "/api/v1/admin/plans", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  free(user);
}

static void test_plan_bad_input(void **state) {
  (void)state;
  static const char *const bad[][3] = {
    {"{}", "name", "missing_field"},
    {"{\"name\":\"  \",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\"}", "name", "empty"},
    {"{\"name\":\"x\",\"amount\":0,\"currency\":\"USD\",\"interval\":\"month\"}", "amount",
     "invalid_amount"},
    {"{\"name\":\"x\",\"amount\":\"9\",\"currency\":\"USD\",\"interval\":\"month\"}", "amount",
     "invalid_type"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"XYZ\",\"interval\":\"month\"}", "currency",
     "invalid_currency"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"fortnight\"}", "interval",
     "invalid_interval"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\","
     "\"interval_count\":13}", "interval_count", "out_of_range"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\","
     "\"trial_days\":731}", "trial_days", "out_of_range"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\","
     "\"trial_days\":-1}", "trial_days", "out_of_range"},
    {"{\"name\":\"x\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\","
     "\"tier\":\"gold\"}", "tier", "unknown_field"},
  };
  struct th_response r;
  long products = fs_created(&fake, "product");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    pf_call(&srv, admin, "POST", "/api/v1/admin/plans", fresh_key(), bad[i][0], &r);
    th_assert_field_error(&r, bad[i][1], bad[i][2]);
    th_response_free(&r);
  }
  assert_int_equal(fs_created(&fake, "product"), products); /* nothing reached Stripe */
  char id[37];
  plan("{\"name\":\"Patch me\",\"amount\":900,\"currency\":\"USD\",\"interval\":\"week\"}", id);
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", id);
  static const char *const patches[][3] = {
    {"{}", "name", "nothing_to_change"},
    {"{\"trial_days\":\"x\"}", "trial_days", "invalid_type"},
    {"{\"active\":\"yes\"}", "active", "invalid_type"},
    {"{\"amount\":5}", "amount", "unknown_field"},
  };
  for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
    pf_call(&srv, admin, "PATCH", path, NULL, patches[i][0], &r);
    th_assert_field_error(&r, patches[i][1], patches[i][2]);
    th_response_free(&r);
  }
  pf_call(&srv, admin, "PATCH", "/api/v1/admin/plans/00000000-0000-4000-8000-000000000000", NULL,
          "{\"name\":\"x\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_call(&srv, admin, "PATCH", "/api/v1/admin/plans/nope", NULL, "{\"name\":\"x\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  /* Stripe down: 503, no plan stored. */
  long plans = th_sql_long("SELECT count(*) FROM billing_plans WHERE $1 <> ''", "x");
  fs_inject(&fake, "POST", "/v1/products", "server_error", 1, 0);
  pf_call(&srv, admin, "POST", "/api/v1/admin/plans", fresh_key(),
          "{\"name\":\"Down\",\"amount\":100,\"currency\":\"USD\",\"interval\":\"month\"}", &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM billing_plans WHERE $1 <> ''", "x"), plans);
}

static void test_subscribe_and_renew(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37];
  char *token = subscriber("pm_card_visa", uid);
  plan("{\"name\":\"Monthly\",\"amount\":1500,\"currency\":\"USD\",\"interval\":\"month\"}", pid);
  struct th_response r;
  subscribe(token, pid, 201, sid, &r);
  th_assert_json_subset("{\"object\":\"subscription\",\"status\":\"active\","
                        "\"cancel_at_period_end\":false,\"failed_attempts\":0}", r.json);
  assert_string_equal(th_str(r.json, "plan_id"), pid);
  assert_string_equal(th_str(r.json, "user_id"), uid);
  assert_non_null(th_str(r.json, "current_period_end"));
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscriptions WHERE id = $1::uuid AND"
                               " current_period_end > now() + interval '29 days'", sid), 1);
  subscribe(token, pid, 409, NULL, &r);
  th_assert_error(&r, 409, "already_subscribed");
  th_response_free(&r);
  char sub[64], path[160];
  snprintf(sub, sizeof(sub), "%s", provider_sub(sid));
  /* Its creation events change nothing new; a replay is a duplicate. */
  assert_string_equal(deliver_last(sub, "customer.subscription.created", 2), "duplicate");
  /* The period ends: the next invoice is paid. */
  snprintf(path, sizeof(path), "/_fake/subscriptions/%s/renew", sub);
  char inv[64];
  fake_post(path, "{}", "latest_invoice", inv);
  assert_string_equal(deliver_last(inv, "invoice.paid", 1), "applied");
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscription_invoices WHERE"
                               " provider_invoice_id = $1 AND status = 'paid'", inv), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscriptions WHERE id = $1::uuid AND"
                               " current_period_end > now() + interval '59 days'", sid), 1);
  snprintf(path, sizeof(path), "/api/v1/subscriptions/%s", sid);
  pf_call(&srv, token, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"active\"}", r.json);
  th_response_free(&r);
  pf_call(&srv, token, "GET", "/api/v1/subscriptions", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(json_array_get(json_object_get(r.json, "data"), 0), "id"), sid);
  th_response_free(&r);
  char other_uid[37];
  char *other = subscriber(NULL, other_uid);
  pf_call(&srv, other, "GET", path, NULL, NULL, &r); /* not theirs */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  act(other, sid, "cancel", "{}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  free(other);
  free(token);
}

static void test_trial_cancel_resume(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37];
  char *token = subscriber(NULL, uid); /* no card: the trial needs none */
  plan("{\"name\":\"Trial\",\"amount\":2000,\"currency\":\"USD\",\"interval\":\"month\","
       "\"trial_days\":14}", pid);
  struct th_response r;
  subscribe(token, pid, 201, sid, &r);
  th_assert_json_subset("{\"status\":\"trialing\"}", r.json);
  assert_non_null(th_str(r.json, "trial_end"));
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscriptions WHERE id = $1::uuid AND"
                               " trial_end BETWEEN now() + interval '13 days' AND now() +"
                               " interval '15 days'", sid), 1);
  act(token, sid, "resume", NULL, &r);
  th_assert_error(&r, 409, "not_canceling");
  th_response_free(&r);
  act(token, sid, "cancel", NULL, &r); /* at the period's end by default */
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"trialing\",\"cancel_at_period_end\":true}", r.json);
  assert_non_null(th_str(r.json, "canceled_at"));
  th_response_free(&r);
  act(token, sid, "resume", "{}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"trialing\",\"cancel_at_period_end\":false,"
                        "\"canceled_at\":null}", r.json);
  th_response_free(&r);
  act(token, sid, "cancel", "{\"at_period_end\":true}", &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  /* The trial ends: Stripe ends the subscription and says so. */
  char sub[64], path[160];
  snprintf(sub, sizeof(sub), "%s", provider_sub(sid));
  snprintf(path, sizeof(path), "/_fake/subscriptions/%s/renew", sub);
  fake_post(path, "{}", NULL, NULL);
  assert_string_equal(deliver_last(sub, "customer.subscription.deleted", 1), "applied");
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "canceled");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                               " 'subscription_canceled' AND data->>'subscription_id' = $1", sid),
                   1);
  assert_string_equal(deliver_last(sub, "customer.subscription.updated", 1), "stale");
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "canceled");
  act(token, sid, "cancel", "{\"at_period_end\":false}", &r);
  th_assert_error(&r, 409, "subscription_canceled");
  th_response_free(&r);
  /* Over: the user may subscribe again. */
  subscribe(token, pid, 201, NULL, NULL);
  free(token);
}

static void test_change_plan_and_cancel_now(void **state) {
  (void)state;
  char uid[37], a[37], b[37], eur[37], gone[37], sid[37];
  char *token = subscriber("pm_card_mastercard", uid);
  plan("{\"name\":\"Basic\",\"amount\":1000,\"currency\":\"USD\",\"interval\":\"month\"}", a);
  plan("{\"name\":\"Pro\",\"amount\":3000,\"currency\":\"USD\",\"interval\":\"month\"}", b);
  plan("{\"name\":\"Euro\",\"amount\":3000,\"currency\":\"EUR\",\"interval\":\"month\"}", eur);
  plan("{\"name\":\"Old\",\"amount\":500,\"currency\":\"USD\",\"interval\":\"month\"}", gone);
  struct th_response r;
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/admin/plans/%s", gone);
  pf_call(&srv, admin, "PATCH", path, NULL, "{\"active\":false}", &r);
  th_response_free(&r);
  subscribe(token, a, 201, sid, NULL);
  char body[96];
  snprintf(body, sizeof(body), "{\"plan_id\":\"%s\"}", b);
  act(token, sid, "plan", body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "plan_id"), b);
  th_response_free(&r);
  char *price = th_sql_text("SELECT provider_price_id FROM billing_plans WHERE id = $1::uuid", b);
  json_t *reqs = NULL;
  char q[160];
  snprintf(q, sizeof(q), "/_fake/requests?path=/v1/subscriptions/%s", provider_sub(sid));
  assert_int_equal(fs_call(&fake, "GET", q, NULL, &reqs), 200);
  json_t *items = json_object_get(json_object_get(json_array_get(json_object_get(reqs, "data"),
                                                                 0), "params"), "items");
  assert_string_equal(th_str(json_object_get(items, "0"), "price"), price);
  json_decref(reqs);
  free(price);
  act(token, sid, "plan", body, &r);
  th_assert_error(&r, 409, "same_plan");
  th_response_free(&r);
  snprintf(body, sizeof(body), "{\"plan_id\":\"%s\"}", eur);
  act(token, sid, "plan", body, &r);
  th_assert_error(&r, 422, "currency_mismatch");
  th_response_free(&r);
  snprintf(body, sizeof(body), "{\"plan_id\":\"%s\"}", gone);
  act(token, sid, "plan", body, &r);
  th_assert_error(&r, 422, "plan_archived");
  th_response_free(&r);
  act(token, sid, "plan", "{\"plan_id\":\"00000000-0000-4000-8000-000000000000\"}", &r);
  th_assert_error(&r, 400, "invalid_plan");
  th_response_free(&r);
  act(token, sid, "cancel", "{\"at_period_end\":false}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"canceled\"}", r.json);
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action IN"
                               " ('subscription.created', 'subscription.plan_changed',"
                               " 'subscription.canceled')", sid), 3);
  free(token);
}

static long failure_mails(const char *sid) {
  return th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                     " 'subscription_payment_failed' AND data->>'subscription_id' = $1", sid);
}

static void test_dunning(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37], sub[64], inv[64], path[160];
  char *token = subscriber("pm_card_visa", uid);
  plan("{\"name\":\"Dunned\",\"amount\":1200,\"currency\":\"USD\",\"interval\":\"month\"}", pid);
  subscribe(token, pid, 201, sid, NULL);
  snprintf(sub, sizeof(sub), "%s", provider_sub(sid));
  snprintf(path, sizeof(path), "/_fake/subscriptions/%s/renew", sub);
  fake_post(path, "{\"fail\":true}", "latest_invoice", inv);
  /* Attempt 1: past_due, the user told once however often the event comes. */
  assert_string_equal(deliver_last(inv, "invoice.payment_failed", 3), "duplicate");
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "past_due");
  assert_int_equal(failure_mails(sid), 1);
  pf_assert_db("SELECT failed_attempts::text FROM subscriptions WHERE id = $1::uuid", sid, "1");
  assert_string_equal(deliver_last(sub, "customer.subscription.updated", 1), "applied");
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "past_due");
  /* Attempt 2. */
  snprintf(path, sizeof(path), "/_fake/invoices/%s/retry", inv);
  fake_post(path, "{\"fail\":true}", NULL, NULL);
  assert_string_equal(deliver_last(inv, "invoice.payment_failed", 1), "applied");
  assert_int_equal(failure_mails(sid), 2);
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "past_due");
  long deletes = fs_calls(&fake, "DELETE /v1/subscriptions/:id");
  /* Attempt 3 of 3: Herald cancels the subscription at Stripe. */
  fake_post(path, "{\"fail\":true}", NULL, NULL);
  assert_string_equal(deliver_last(inv, "invoice.payment_failed", 2), "duplicate");
  assert_int_equal(fs_calls(&fake, "DELETE /v1/subscriptions/:id"), deletes + 1);
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "canceled");
  assert_int_equal(failure_mails(sid), 3);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE template_key ="
                               " 'subscription_canceled' AND data->>'subscription_id' = $1", sid),
                   1);
  pf_assert_db("SELECT attempt_count::text FROM subscription_invoices WHERE provider_invoice_id"
               " = $1", inv, "3");
  assert_string_equal(deliver_last(sub, "customer.subscription.deleted", 1), "stale");
  free(token);
}

static void test_recovery_after_failure(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37], sub[64], inv[64], path[160];
  char *token = subscriber("pm_card_visa", uid);
  plan("{\"name\":\"Recovers\",\"amount\":1200,\"currency\":\"USD\",\"interval\":\"month\"}", pid);
  subscribe(token, pid, 201, sid, NULL);
  snprintf(sub, sizeof(sub), "%s", provider_sub(sid));
  snprintf(path, sizeof(path), "/_fake/subscriptions/%s/renew", sub);
  fake_post(path, "{\"fail\":true}", "latest_invoice", inv);
  assert_string_equal(deliver_last(inv, "invoice.payment_failed", 1), "applied");
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "past_due");
  snprintf(path, sizeof(path), "/_fake/invoices/%s/retry", inv);
  fake_post(path, "{}", NULL, NULL);
  assert_string_equal(deliver_last(inv, "invoice.paid", 1), "applied");
  pf_assert_db("SELECT status || ' ' || failed_attempts FROM subscriptions WHERE id = $1::uuid",
               sid, "active 0");
  free(token);
}

static void test_declined_first_payment(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37];
  char *token = subscriber("pm_card_chargeDeclined", uid);
  plan("{\"name\":\"Declined\",\"amount\":1300,\"currency\":\"USD\",\"interval\":\"month\"}",
       pid);
  struct th_response r;
  subscribe(token, pid, 201, sid, &r); /* made, but its first invoice is unpaid */
  th_assert_json_subset("{\"status\":\"incomplete\"}", r.json);
  th_response_free(&r);
  char inv[64];
  char *v = th_sql_text("SELECT provider_subscription_id FROM subscriptions WHERE id = $1::uuid",
                        sid);
  json_t *events = fs_events(&fake, v, "customer.subscription.created");
  snprintf(inv, sizeof(inv), "%s",
           th_str(json_object_get(json_object_get(json_array_get(events, 0), "data"), "object"),
                  "latest_invoice"));
  json_decref(events);
  free(v);
  assert_string_equal(deliver_last(inv, "invoice.payment_failed", 1), "applied");
  assert_int_equal(failure_mails(sid), 1);
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "incomplete");
  subscribe(token, pid, 409, NULL, NULL); /* still the live one: pay or cancel it */
  free(token);
}

static void test_admin_sync(void **state) {
  (void)state;
  char uid[37], pid[37], sid[37], path[160];
  char *token = subscriber("pm_card_visa", uid);
  plan("{\"name\":\"Synced\",\"amount\":1100,\"currency\":\"USD\",\"interval\":\"month\"}", pid);
  subscribe(token, pid, 201, sid, NULL);
  /* Stripe moved on and no event arrived: a sync reads it. */
  snprintf(path, sizeof(path), "/_fake/subscriptions/%s/renew", provider_sub(sid));
  fake_post(path, "{\"fail\":true}", NULL, NULL);
  pf_assert_db("SELECT status FROM subscriptions WHERE id = $1::uuid", sid, "active");
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/admin/subscriptions/%s/sync", sid);
  pf_call(&srv, admin, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"subscription\",\"status\":\"past_due\"}", r.json);
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND action ="
                               " 'subscription.status_changed' AND details->>'to' = 'past_due'",
                               sid), 1);
  pf_call(&srv, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  pf_call(&srv, admin, "POST", "/api/v1/admin/subscriptions/00000000-0000-4000-8000-000000000000/sync",
          NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_call(&srv, admin, "POST", "/api/v1/admin/subscriptions/x/sync", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  fs_inject(&fake, "GET", "/v1/subscriptions/", "server_error", 1, 0);
  pf_call(&srv, admin, "POST", path, NULL, NULL, &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  free(token);
}

static void test_subscribe_bad_input(void **state) {
  (void)state;
  char uid[37], pid[37], trial[37];
  char *token = subscriber(NULL, uid);
  plan("{\"name\":\"Card needed\",\"amount\":700,\"currency\":\"USD\",\"interval\":\"month\"}",
       pid);
  plan("{\"name\":\"Trial 3\",\"amount\":700,\"currency\":\"USD\",\"interval\":\"month\","
       "\"trial_days\":3}", trial);
  static const char *const bad[][3] = {
    {"{}", "plan_id", "missing_field"},
    {"{\"plan_id\":\"basic\"}", "plan_id", "invalid_id"},
    {"{\"plan_id\":42}", "plan_id", "invalid_type"},
    {"{\"plan_id\":\"00000000-0000-4000-8000-000000000000\",\"coupon\":\"x\"}", "coupon",
     "unknown_field"},
  };
  struct th_response r;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    pf_call(&srv, token, "POST", "/api/v1/subscriptions", fresh_key(), bad[i][0], &r);
    th_assert_field_error(&r, bad[i][1], bad[i][2]);
    th_response_free(&r);
  }
  pf_call(&srv, token, "POST", "/api/v1/subscriptions", fresh_key(),
          "{\"plan_id\":\"00000000-0000-4000-8000-000000000000\"}", &r);
  th_assert_error(&r, 400, "invalid_plan");
  th_response_free(&r);
  char body[160];
  snprintf(body, sizeof(body), "{\"plan_id\":\"%s\",\"payment_method_id\":\"card\"}", pid);
  pf_call(&srv, token, "POST", "/api/v1/subscriptions", fresh_key(), body, &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  subscribe(token, pid, 422, NULL, &r); /* no card and no trial */
  th_assert_error(&r, 422, "payment_method_required");
  th_response_free(&r);
  pf_call(&srv, token, "POST", "/api/v1/subscriptions", fresh_key(), "[1]", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  pf_call(&srv, NULL, "POST", "/api/v1/subscriptions", fresh_key(), "{}", &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscriptions WHERE user_id = $1::uuid",
                               uid), 0);
  /* Stripe down: 503; the retry reuses the pending row and one subscription is made. */
  long made = fs_created(&fake, "subscription");
  fs_inject(&fake, "POST", "/v1/subscriptions", "server_error", 1, 0);
  subscribe(token, trial, 503, NULL, &r);
  th_assert_error(&r, 503, "provider_unavailable");
  th_response_free(&r);
  char sid[37];
  subscribe(token, trial, 201, sid, NULL);
  assert_int_equal(fs_created(&fake, "subscription"), made + 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscriptions WHERE user_id = $1::uuid",
                               uid), 1);
  /* The actions' bad input. */
  static const char *const acts[][4] = {
    {"cancel", "{\"at_period_end\":\"yes\"}", "at_period_end", "invalid_type"},
    {"cancel", "{\"now\":true}", "now", "unknown_field"},
    {"resume", "{\"x\":1}", "x", "unknown_field"},
    {"plan", "{}", "plan_id", "missing_field"},
    {"plan", "{\"plan_id\":\"pro\"}", "plan_id", "invalid_id"},
  };
  for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
    act(token, sid, acts[i][0], acts[i][1], &r);
    th_assert_field_error(&r, acts[i][2], acts[i][3]);
    th_response_free(&r);
  }
  act(token, "not-a-uuid", "cancel", "{}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_call(&srv, token, "GET", "/api/v1/subscriptions?limit=0", NULL, NULL, &r);
  th_assert_field_error(&r, "limit", "invalid_limit");
  th_response_free(&r);
  pf_call(&srv, token, "GET", "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000",
          NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  free(token);
}

static void test_unknown_subscription_event(void **state) {
  (void)state;
  const char *made = "{\"type\":\"invoice.payment_failed\",\"object\":{\"id\":\"in_elsewhere\","
                     "\"object\":\"invoice\",\"subscription\":\"sub_elsewhere\",\"status\":"
                     "\"open\",\"currency\":\"usd\",\"amount_due\":100,\"attempt_count\":1}}";
  json_t *out = NULL;
  assert_int_equal(fs_call(&fake, "POST", "/_fake/events", made, &out), 200);
  char evt[128];
  snprintf(evt, sizeof(evt), "%s", th_str(out, "id"));
  json_decref(out);
  const char *ids[] = {evt};
  json_t *d = fs_deliver(&fake, ids, 1, NULL);
  /* Unknown at Stripe and here: recorded as ignored, nothing else. */
  assert_int_equal(json_integer_value(json_object_get(json_array_get(d, 0), "status")), 200);
  assert_non_null(strstr(th_str(json_array_get(d, 0), "body"), "\"ignored\""));
  json_decref(d);
  assert_int_equal(th_sql_long("SELECT count(*) FROM subscription_invoices WHERE"
                               " provider_invoice_id = $1", "in_elsewhere"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plans),
    cmocka_unit_test(test_plan_bad_input),
    cmocka_unit_test(test_subscribe_and_renew),
    cmocka_unit_test(test_trial_cancel_resume),
    cmocka_unit_test(test_change_plan_and_cancel_now),
    cmocka_unit_test(test_dunning),
    cmocka_unit_test(test_recovery_after_failure),
    cmocka_unit_test(test_declined_first_payment),
    cmocka_unit_test(test_admin_sync),
    cmocka_unit_test(test_subscribe_bad_input),
    cmocka_unit_test(test_unknown_subscription_event),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

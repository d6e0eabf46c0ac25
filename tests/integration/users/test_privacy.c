/* Integration: GET /users/me/export holds every kind of data stored about the account, and
 * DELETE /users/me removes each of them or strips it to what accounting keeps (checked row by
 * row in PostgreSQL). One of each is made: preferences, a device, a notification with its
 * deliveries, a payment with a refund, a payment method, a payment customer, a provider event,
 * a session, a stored idempotent response and audit entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "notif_support.h"
#include "users/privacy_repo.h"

static struct th_server srv;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
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

/* Runs sql with $1 = id; fails the test on error. */
static void exec1(PGconn *c, const char *sql, const char *id) {
  const char *params[] = {id};
  PGresult *res = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  PQclear(res);
}

/* Runs sql (no parameters); fails the test on error. */
static void exec0(PGconn *c, const char *sql) {
  PGresult *res = PQexec(c, sql);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  PQclear(res);
}

/* The payment side, written as the payment services and the Stripe webhook would leave it. */
static void seed_payments(const char *id) {
  PGconn *c = th_db_connect();
  exec1(c, "INSERT INTO payment_customers (user_id, provider_customer_id)"
           " VALUES ($1::uuid, 'cus_' || $1)", id);
  exec1(c, "INSERT INTO payments (user_id, payment_type, amount, currency, description, metadata,"
           " status, provider_payment_intent_id, provider_customer_id, client_secret,"
           " payment_method, amount_refunded, succeeded_at) VALUES ($1::uuid, 'coaching_session',"
           " 2500, 'EUR', 'Lesson with Ana Privacy', '{\"court\":\"7\"}', 'succeeded', 'pi_' || $1,"
           " 'cus_' || $1, 'pi_secret_x', 'pm_' || $1, 1000, now())", id);
  exec1(c, "INSERT INTO refunds (payment_id, amount, currency, reason, status, provider_refund_id)"
           " SELECT id, 1000, 'EUR', 'requested_by_customer', 'succeeded', 're_' || $1"
           " FROM payments WHERE user_id = $1::uuid", id);
  exec1(c, "INSERT INTO payment_methods (user_id, provider_payment_method_id, brand, last4,"
           " exp_month, exp_year, is_default) VALUES ($1::uuid, 'pm_' || $1, 'visa', '4242', 12,"
           " 2030, true)", id);
  exec1(c, "INSERT INTO payment_events (id, type, object_id, payload) VALUES ('evt_' || $1,"
           " 'payment_intent.succeeded', 'pi_' || $1, jsonb_build_object('id', 'evt_' || $1,"
           " 'type', 'payment_intent.succeeded', 'data', jsonb_build_object('receipt_email',"
           " 'ana.privacy@example.com')))", id);
  PQfinish(c);
}

/* Makes one of each kind of data for the user with token and id. */
static void seed(const char *token, const char *id) {
  struct th_response r;
  th_call(&srv, token, "PUT", "/api/v1/users/me/preferences", "{\"channels\":{\"sms\":false}}",
          NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_call(&srv, token, "POST", "/api/v1/devices",
          "{\"token\":\"device-token-privacy-abcdef123456\",\"platform\":\"ios\"}",
          "Idempotency-Key: privacy-device-1", &r);
  assert_int_equal(r.status, 201);
  th_response_free(&r);
  json_decref(ns_send(&srv, admin, "{\"user_id\":\"%s\",\"category\":\"billing\",\"title\":"
                                   "\"Receipt\",\"body\":\"Thanks Ana\"}", id));
  seed_payments(id);
}

static const json_t *member(const json_t *doc, const char *key) {
  const json_t *v = json_object_get(doc, key);
  if (v == NULL) {
    fail_msg("export lacks %s", key);
  }
  return v;
}

static void check_export(const char *token, const char *id) {
  struct th_response r;
  th_call(&srv, token, "GET", "/api/v1/users/me/export", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  const json_t *doc = r.json;
  th_assert_json_subset("{\"preferences\":{\"channels\":{\"sms\":false}}}", doc);
  th_assert_json_subset("{\"platform\":\"ios\",\"token_hint\":\"...123456\"}",
                        json_array_get(member(doc, "devices"), 0));
  assert_true(json_array_size(member(doc, "notifications")) >= 1); /* + the sign-up e-mail */
  assert_true(json_array_size(member(doc, "deliveries")) >= 1);
  th_assert_json_subset("{\"amount\":2500,\"currency\":\"EUR\",\"description\":"
                        "\"Lesson with Ana Privacy\",\"amount_refunded\":1000}",
                        json_array_get(member(doc, "payments"), 0));
  th_assert_json_subset("{\"amount\":1000,\"status\":\"succeeded\"}",
                        json_array_get(member(doc, "refunds"), 0));
  th_assert_json_subset("{\"brand\":\"visa\",\"last4\":\"4242\",\"is_default\":true}",
                        json_array_get(member(doc, "payment_methods"), 0));
  assert_non_null(json_object_get(member(doc, "payment_customer"), "provider_customer_id"));
  assert_int_equal(json_array_size(member(doc, "sessions")), 1);
  assert_true(json_array_size(member(doc, "audit_log")) >= 2);
  member(doc, "one_time_tokens");
  member(doc, "api_keys_created");
  /* Masked: neither the device token nor the provider's payment method id is in it. */
  assert_null(strstr(r.body, "device-token-privacy"));
  char pm[48];
  snprintf(pm, sizeof(pm), "\"pm_%s\"", id);
  assert_null(strstr(r.body, pm));
  assert_null(strstr(r.body, "pi_secret_x"));
  th_response_free(&r);
}

/* Fails unless the count of sql ($1 = id) is want. */
static void assert_count(const char *sql, const char *id, long want) {
  long got = th_sql_long(sql, id);
  if (got != want) {
    fail_msg("%s: %ld rows, expected %ld", sql, got, want);
  }
}

static void check_erased(const char *id) {
  static const char *const gone[] = {
    "SELECT count(*) FROM devices WHERE user_id = $1::uuid",
    "SELECT count(*) FROM notification_preferences WHERE user_id = $1::uuid",
    "SELECT count(*) FROM notifications WHERE user_id = $1::uuid",
    "SELECT count(*) FROM deliveries WHERE user_id = $1::uuid",
    "SELECT count(*) FROM payment_methods WHERE user_id = $1::uuid",
    "SELECT count(*) FROM payment_customers WHERE user_id = $1::uuid",
    "SELECT count(*) FROM refresh_tokens WHERE user_id = $1::uuid",
    "SELECT count(*) FROM one_time_tokens WHERE user_id = $1::uuid",
    "SELECT count(*) FROM idempotency_keys WHERE caller = 'user:' || $1",
    "SELECT count(*) FROM audit_log WHERE (actor_id = $1::uuid OR target_id = $1::text)"
    " AND (ip IS NOT NULL OR details <> '{}'::jsonb)",
    "SELECT count(*) FROM payment_events WHERE object_id = 'pi_' || $1"
    " AND payload::text LIKE '%example.com%'",
    "SELECT count(*) FROM users WHERE id = $1::uuid AND (name IS NOT NULL OR phone IS NOT NULL"
    " OR email NOT LIKE 'deleted-%' OR status <> 'deleted')",
  };
  for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
    assert_count(gone[i], id, 0);
  }
  /* Kept for accounting, without personal data. */
  assert_count("SELECT count(*) FROM payments WHERE user_id = $1::uuid AND amount = 2500"
               " AND currency = 'EUR' AND status = 'succeeded' AND amount_refunded = 1000"
               " AND provider_payment_intent_id = 'pi_' || $1 AND description IS NULL"
               " AND metadata = '{}'::jsonb AND client_secret IS NULL AND payment_method IS NULL",
               id, 1);
  assert_count("SELECT count(*) FROM refunds r JOIN payments p ON p.id = r.payment_id"
               " WHERE p.user_id = $1::uuid AND r.amount = 1000", id, 1);
  assert_count("SELECT count(*) FROM payment_events WHERE object_id = 'pi_' || $1", id, 1);
  assert_count("SELECT count(*) FROM audit_log WHERE target_id = $1::text"
               " AND action = 'user.deleted'",
               id, 1);
}

static void test_export_complete_and_delete_erases(void **state) {
  (void)state;
  char id[37];
  char *token = th_user(&srv, "privacy", "+14155550199", id);
  seed(token, id);
  check_export(token, id);
  struct th_response r;
  th_call(&srv, token, "DELETE", "/api/v1/users/me", NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  check_erased(id);
  free(token);
}

/* Every statement of the export and the erasure reaches its rows through an index: with
 * sequential scans priced out (enable_seqscan off) no plan may still hold one, so neither
 * grows with the tables (notifications and audit_log gain rows with every POST; a scan of
 * millions of rows would also outlast the statement timeout and fail the request). */
static void test_export_and_erasure_use_indexes(void **state) {
  (void)state;
  const char *sql[64];
  size_t n = h_privacy_repo_statements(sql, 64);
  assert_true(n > 20 && n <= 64);
  PGconn *c = th_db_connect();
  PGresult *res = PQexec(c, "SET enable_seqscan = off");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  const char *params[] = {"0b6f3c2e-8d1a-4c5b-9e7f-112233445566"};
  int scans = 0;
  for (size_t i = 0; i < n; i++) {
    char *explain = h_sprintf("EXPLAIN (COSTS OFF) %s", sql[i]);
    res = PQexecParams(c, explain, 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int row = 0; row < PQntuples(res); row++) {
      if (strstr(PQgetvalue(res, row, 0), "Seq Scan") != NULL) {
        print_message("sequential scan: %s\n  in %s\n", PQgetvalue(res, row, 0), sql[i]);
        scans++;
      }
    }
    PQclear(res);
    free(explain);
  }
  PQfinish(c);
  assert_int_equal(scans, 0);
}

/* The tables c's open transaction read with a sequential scan (pg_stat_xact_user_tables counts
 * every scan it made, its triggers' included), printed, and how many: of every table, or only
 * of those in tables (a PostgreSQL text[] literal). */
static int seq_scanned(PGconn *c, const char *tables) {
  const char *params[] = {tables};
  PGresult *res = PQexecParams(c, "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
                                  " WHERE seq_scan > 0"
                                  " AND ($1::text[] IS NULL OR relname = ANY ($1::text[]))"
                                  " ORDER BY relname", 1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  for (int row = 0; row < PQntuples(res); row++) {
    print_message("sequential scans of %s: %s\n", PQgetvalue(res, row, 0),
                  PQgetvalue(res, row, 1));
  }
  int scanned = PQntuples(res);
  PQclear(res);
  return scanned;
}

/* What the erasure's statements set off reaches its rows through indexes too: the triggers
 * and foreign-key actions of the rows it deletes (a deleted delivery clears the
 * digest_delivery_id of the deliveries it carried as a digest; each deleted row runs that
 * UPDATE of its own, a scan of the whole table without an index). Run with sequential scans
 * priced out, inside a transaction rolled back; pg_stat_xact_user_tables counts every scan
 * the transaction made, the triggers' included. */
static void test_erasure_actions_use_indexes(void **state) {
  (void)state;
  const char *uid = "5d0c2a7e-1f3b-4e6a-8c9d-aabbccddeeff";
  const char *sql[64];
  size_t n = h_privacy_repo_statements(sql, 64);
  PGconn *c = th_db_connect();
  exec0(c, "BEGIN");
  exec0(c, "SET LOCAL enable_seqscan = off");
  exec1(c, "INSERT INTO notifications (id, user_id, category, in_app)"
           " VALUES ('5d0c2a7e-0000-4000-8000-000000000001', $1::uuid, 'digest', false)", uid);
  exec1(c, "INSERT INTO deliveries (id, notification_id, user_id, channel, status)"
           " VALUES ('5d0c2a7e-0000-4000-8000-0000000000d1',"
           " '5d0c2a7e-0000-4000-8000-000000000001', $1::uuid, 'email', 'sent')", uid);
  exec1(c, "INSERT INTO deliveries (notification_id, user_id, channel, status, digest_delivery_id)"
           " SELECT '5d0c2a7e-0000-4000-8000-000000000001', $1::uuid, 'email', 'digested',"
           " '5d0c2a7e-0000-4000-8000-0000000000d1' FROM generate_series(1, 3)", uid);
  for (size_t i = 0; i < n; i++) {
    exec1(c, sql[i], uid);
  }
  int scanned = seq_scanned(c, NULL);
  PGresult *res = PQexecParams(c, "SELECT count(*) FROM deliveries WHERE user_id = $1::uuid", 1, NULL,
                     &uid, NULL, NULL, 0);
  assert_string_equal(PQgetvalue(res, 0, 0), "0"); /* the erasure did delete them */
  PQclear(res);
  exec0(c, "ROLLBACK");
  PQfinish(c);
  assert_int_equal(scanned, 0);
}

/* Runs sql (with $1 = id, unless id is NULL) and returns its one number. */
static long count1(PGconn *c, const char *sql, const char *id) {
  const char *params[] = {id};
  PGresult *res = PQexecParams(c, sql, id != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  long n = atol(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

/* No index holds all of a user's notifications (migration 0103): the in-app ones are in one
 * partial index, the rest in another. A user's row deleted by hand takes its
 * notifications of both kinds and their deliveries (the triggers of migrations 0091, 0092
 * and 0103) through those indexes, with sequential scans priced out; inside a transaction
 * rolled back. */
static void test_user_row_deleted_reads_both_indexes(void **state) {
  (void)state;
  char uid[37];
  free(th_user(&srv, "rowgone", NULL, uid));
  PGconn *c = th_db_connect();
  exec0(c, "BEGIN");
  exec0(c, "SET LOCAL enable_seqscan = off");
  static const char of_user[] = "SELECT count(*) FROM notifications WHERE"
                                " user_id = $1::uuid AND (in_app OR NOT in_app)";
  long before = count1(c, of_user, uid);
  assert_true(before >= 1); /* the sign-up's verification e-mail, not in-app */
  exec1(c, "INSERT INTO notifications (id, user_id, category, in_app) VALUES"
           " ('7e1d2c3b-0000-4000-8000-000000000001', $1::uuid, 'c', true),"
           " ('7e1d2c3b-0000-4000-8000-000000000002', $1::uuid, 'c', false)", uid);
  exec1(c, "INSERT INTO deliveries (notification_id, user_id, channel, status) VALUES"
           " ('7e1d2c3b-0000-4000-8000-000000000001', $1::uuid, 'in_app', 'sent'),"
           " ('7e1d2c3b-0000-4000-8000-000000000002', $1::uuid, 'email', 'queued')", uid);
  assert_int_equal(count1(c, of_user, uid), before + 2);
  exec1(c, "DELETE FROM users WHERE id = $1::uuid", uid);
  assert_int_equal(count1(c, of_user, uid), 0);
  assert_int_equal(count1(c, "SELECT count(*) FROM deliveries WHERE notification_id IN"
                             " ('7e1d2c3b-0000-4000-8000-000000000001',"
                             "  '7e1d2c3b-0000-4000-8000-000000000002')", NULL),
                   0);
  assert_int_equal(seq_scanned(c, "{notifications,deliveries}"), 0);
  exec0(c, "ROLLBACK");
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_export_complete_and_delete_erases),
    cmocka_unit_test(test_export_and_erasure_use_indexes),
    cmocka_unit_test(test_erasure_actions_use_indexes),
    cmocka_unit_test(test_user_row_deleted_reads_both_indexes),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

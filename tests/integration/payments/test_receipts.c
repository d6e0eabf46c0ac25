/* Integration: receipts - a number per succeeded payment, sequential per year without gaps
 * under concurrency, GET /payments/{id}/receipt as JSON and as HTML, the receipt e-mail, and
 * who may read a receipt; the figures of GET /admin/payments/summary and /metrics. Against
 * the fake Stripe. */
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
static struct fs_fake fake;
static char *payer, *other, *admin;

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_HTTP_THREADS", "8", 1);
  setenv("HERALD_PRODUCT_NAME", "Herald <Courts>", 1);
  th_start(&srv);
  char id[37];
  payer = th_user(&srv, "receipt", NULL, id);
  other = th_user(&srv, "receipt-other", NULL, id);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(payer);
  free(other);
  free(admin);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

#define PAID "{\"amount\":2500,\"currency\":\"USD\",\"payment_type\":\"tournament_fee\"," \
             "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true,"                   \
             "\"description\":\"Spring <open> & \\\"cup\\\"\"}"

static void receipt(const char *token, const char *id, const char *accept,
                    struct th_response *r) {
  char path[128], header[64];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/receipt", id);
  snprintf(header, sizeof(header), "Accept: %s", accept != NULL ? accept : "application/json");
  th_call(&srv, token, "GET", path, NULL, header, r);
}

/* Every receipt number of this year: sequential from 1 with no gap and ending at the
 * counter's value. */
static void assert_gapless(void) {
  long count = th_sql_long("SELECT count(*) FROM payments WHERE receipt_number LIKE"
                           " extract(year FROM now() AT TIME ZONE 'UTC')::text || '-%'"
                           " AND $1 = $1", "x");
  long max = th_sql_long("SELECT COALESCE(max(split_part(receipt_number, '-', 2)::int), 0)"
                         " FROM payments WHERE receipt_number LIKE"
                         " extract(year FROM now() AT TIME ZONE 'UTC')::text || '-%'"
                         " AND $1 = $1", "x");
  long counter = th_sql_long("SELECT last_number FROM receipt_counters WHERE year ="
                             " extract(year FROM now() AT TIME ZONE 'UTC')::int AND $1 = $1",
                             "x");
  assert_true(count > 0);
  assert_int_equal(count, max);
  assert_int_equal(counter, max);
}

static void test_json_and_email(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  receipt(payer, id, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"receipt\",\"amount\":2500,\"currency\":\"USD\","
                        "\"amount_display\":\"25.00 USD\",\"status\":\"succeeded\","
                        "\"merchant\":\"Herald <Courts>\",\"provider\":\"stripe\"}", r.json);
  const char *number = th_str(r.json, "number");
  char year[8];
  snprintf(year, sizeof(year), "%s", th_str(r.json, "issued_at"));
  year[4] = '\0';
  assert_non_null(number);
  assert_int_equal(strncmp(number, year, 4), 0);
  assert_int_equal(strlen(number), 11);
  pf_assert_db("SELECT receipt_number FROM payments WHERE id = $1", id, number);
  /* the receipt e-mail carries the number (template payment_receipt) */
  pf_assert_db("SELECT data->>'receipt_number' FROM notifications WHERE data->>'payment_id' = $1"
               " AND template_key = 'payment_receipt'", id, number);
  th_response_free(&r);
  receipt(admin, id, NULL, &r); /* admins read any */
  assert_int_equal(r.status, 200);
  th_response_free(&r);
}

static void test_html(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  receipt(payer, id, "text/html,application/xhtml+xml;q=0.9", &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(th_header(&r, "Content-Type"), "text/html"));
  char *number = th_sql_text("SELECT receipt_number FROM payments WHERE id = $1", id);
  assert_non_null(strstr(r.body, number));
  assert_non_null(strstr(r.body, "25.00 USD"));
  assert_non_null(strstr(r.body, "Spring &lt;open&gt; &amp; &quot;cup&quot;"));
  assert_non_null(strstr(r.body, "Herald &lt;Courts&gt;"));
  assert_null(strstr(r.body, "<open>"));
  free(number);
  th_response_free(&r);
}

static void test_who_and_when(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  receipt(other, id, NULL, &r); /* another user's payment */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  receipt(other, id, "text/html", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  const char *open = pf_pay(&srv, payer,
                            "{\"amount\":900,\"currency\":\"EUR\",\"payment_type\":\"other\"}", 201);
  receipt(payer, open, NULL, &r); /* not succeeded: no receipt */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  pf_assert_db("SELECT COALESCE(receipt_number, 'none') FROM payments WHERE id = $1", open,
               "none");
  receipt(payer, "not-a-uuid", NULL, &r);
  assert_int_equal(r.status, 404);
  th_response_free(&r);
  th_request(&srv, "GET", "/api/v1/payments/6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40/receipt", NULL,
             NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
}

#define RACERS 8
#define EACH 4

static void *race(void *arg) {
  char (*ids)[37] = arg;
  for (int i = 0; i < EACH; i++) {
    char key[37];
    h_uuid_v4(key);
    struct th_response r;
    pf_call(&srv, payer, "POST", "/api/v1/payments", key, PAID, &r);
    snprintf(ids[i], 37, "%s", r.status == 201 ? th_str(r.json, "id") : "");
    th_response_free(&r);
  }
  return NULL;
}

static void test_numbers_under_concurrency(void **state) {
  (void)state;
  static char ids[RACERS][EACH][37];
  pthread_t threads[RACERS];
  for (int i = 0; i < RACERS; i++) {
    pthread_create(&threads[i], NULL, race, ids[i]);
  }
  for (int i = 0; i < RACERS; i++) {
    pthread_join(threads[i], NULL);
  }
  for (int i = 0; i < RACERS; i++) {
    for (int j = 0; j < EACH; j++) {
      assert_int_equal(strlen(ids[i][j]), 36);
      assert_int_equal(th_sql_long("SELECT count(*) FROM payments WHERE id = $1::uuid"
                                   " AND receipt_number IS NOT NULL", ids[i][j]), 1);
    }
  }
  assert_gapless(); /* distinct (UNIQUE), from 1, no gap, ending at the counter */
}

static void test_mail_from_template(void **state) {
  (void)state;
  struct th_response r;
  /* The seeded template, replaced by the admin's own wording. */
  th_call(&srv, admin, "PUT", "/api/v1/admin/templates/payment_receipt",
          "{\"name\":\"Receipt\",\"channels\":{\"email\":{"
          "\"subject\":\"Receipt {{receipt_number}}\",\"text\":\"You paid {{amount_display}}"
          " for {{description}}.\"}}}", NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, payer, PAID, 201));
  char *number = th_sql_text("SELECT receipt_number FROM payments WHERE id = $1", id);
  char *title = th_sql_text("SELECT title FROM notifications WHERE data->>'payment_id' = $1"
                            " AND template_key = 'payment_receipt'", id);
  char want[64];
  snprintf(want, sizeof(want), "Receipt %s", number);
  assert_string_equal(title, want);
  pf_assert_db("SELECT body FROM notifications WHERE data->>'payment_id' = $1"
               " AND template_key = 'payment_receipt'", id,
               "You paid 25.00 USD for Spring <open> & \"cup\".");
  free(number);
  free(title);
  th_call(&srv, admin, "DELETE", "/api/v1/admin/templates/payment_receipt", NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
}

static void summary(const char *token, const char *query, struct th_response *r) {
  char path[400];
  snprintf(path, sizeof(path), "/api/v1/admin/payments/summary%s", query);
  th_call(&srv, token, "GET", path, NULL, NULL, r);
}

static void test_summary(void **state) {
  (void)state;
  char *from = th_sql_text("SELECT to_char(now() AT TIME ZONE 'UTC',"
                           " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') WHERE $1 = $1", "x");
  char a[37], b[37];
  snprintf(a, sizeof(a), "%s", pf_pay(&srv, payer, PAID, 201));
  snprintf(b, sizeof(b), "%s", pf_pay(&srv, payer, PAID, 201));
  pf_pay(&srv, payer, "{\"amount\":900,\"currency\":\"EUR\",\"payment_type\":\"other\"}", 201);
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", a);
  struct th_response r;
  pf_call(&srv, admin, "POST", path, "summary-refund",
          "{\"amount\":1000,\"reason\":\"requested_by_customer\"}", &r);
  assert_int_equal(r.status, 201);
  th_response_free(&r);
  long fees = th_sql_long("SELECT sum(fee_provider + fee_platform) FROM payments"
                          " WHERE id IN ($1::uuid, '" "00000000-0000-0000-0000-000000000000')", a);
  fees += th_sql_long("SELECT fee_provider + fee_platform FROM payments WHERE id = $1::uuid", b);
  char query[200];
  snprintf(query, sizeof(query), "?from=%s&to=2999-01-01T00:00:00Z", from);
  summary(admin, query, &r);
  th_assert_error(&r, 400, "invalid_period"); /* more than 366 days */
  th_response_free(&r);
  char *to = th_sql_text("SELECT to_char((now() + interval '1 minute') AT TIME ZONE 'UTC',"
                         " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') WHERE $1 = $1", "x");
  snprintf(query, sizeof(query), "?from=%s&to=%s", from, to);
  summary(admin, query, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"payment_summary\",\"by_status\":["
                        "{\"currency\":\"EUR\",\"status\":\"requires_payment_method\","
                        "\"count\":1,\"volume\":900},"
                        "{\"currency\":\"USD\",\"status\":\"succeeded\",\"count\":2,"
                        "\"volume\":5000}]}", r.json);
  json_t *usd = json_array_get(json_object_get(r.json, "by_currency"), 1);
  char want[300];
  snprintf(want, sizeof(want),
           "{\"currency\":\"USD\",\"succeeded_count\":2,\"volume\":5000,\"refund_count\":1,"
           "\"refunded\":1000,\"dispute_count\":0,\"disputed\":0,\"net\":%ld}",
           5000 - 1000 - fees);
  th_assert_json_subset(want, usd);
  th_response_free(&r);
  /* the same figures (all time) on /metrics */
  th_call(&srv, NULL, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "herald_payments_count{currency=\"USD\",status=\"succeeded\"}"));
  assert_non_null(strstr(r.body, "herald_payments_refunded{currency=\"USD\"}"));
  assert_non_null(strstr(r.body, "herald_payments_fees{currency=\"USD\",kind=\"provider\"}"));
  th_response_free(&r);
  free(from);
  free(to);
}

static void test_summary_bad_input(void **state) {
  (void)state;
  static const struct {
    const char *query, *param, *code;
  } cases[] = {
    {"?from=yesterday", "from", "invalid_timestamp"},
    {"?to=2026-13-01T00:00:00Z", "to", "invalid_timestamp"},
    {"?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from", "invalid_period"},
    {"?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "from", "invalid_period"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct th_response r;
    summary(admin, cases[i].query, &r);
    if (strcmp(cases[i].code, "invalid_period") == 0) {
      th_assert_error(&r, 400, cases[i].code);
      assert_string_equal(th_str(json_object_get(r.json, "error"), "param"), cases[i].param);
    } else {
      th_assert_field_error(&r, cases[i].param, cases[i].code);
    }
    th_response_free(&r);
  }
  struct th_response r;
  summary(payer, "", &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  summary(admin, "", &r); /* the last 30 days */
  assert_int_equal(r.status, 200);
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_json_and_email),
    cmocka_unit_test(test_html),
    cmocka_unit_test(test_who_and_when),
    cmocka_unit_test(test_numbers_under_concurrency),
    cmocka_unit_test(test_mail_from_template),
    cmocka_unit_test(test_summary),
    cmocka_unit_test(test_summary_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: receipts - a number per succeeded payment, sequential per year without gaps
 * under concurrency, GET /payments/{id}/receipt as JSON and as HTML, the receipt e-mail, and
 * who may read a receipt. Against the fake Stripe. */
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_json_and_email),
    cmocka_unit_test(test_html),
    cmocka_unit_test(test_who_and_when),
    cmocka_unit_test(test_numbers_under_concurrency),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: refund requests - the payer asks with a reason, admins are e-mailed; an admin
 * approves (the refund runs, partial or full) or rejects with a reason and the payer is
 * e-mailed; every step audited; two approvals at once refund once; bad input. Against the
 * fake Stripe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *payer, *other, *admin;

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_HTTP_THREADS", "8", 1);
  th_start(&srv);
  char id[37];
  payer = th_user(&srv, "rr-payer", NULL, id);
  other = th_user(&srv, "rr-other", NULL, id);
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

#define PAID "{\"amount\":5000,\"currency\":\"USD\",\"payment_type\":\"coaching_session\"," \
             "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}"

static void ask(const char *token, const char *payment, const char *body,
                struct th_response *r) {
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refund-requests", payment);
  th_call(&srv, token, "POST", path, body, NULL, r);
}

static void decide(const char *token, const char *id, const char *verb, const char *body,
                   struct th_response *r) {
  char path[160];
  snprintf(path, sizeof(path), "/api/v1/admin/refund-requests/%s/%s", id, verb);
  th_call(&srv, token, "POST", path, body, NULL, r);
}

static long audits(const char *id, const char *action) {
  char sql[200];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE target_id = $1"
                             " AND action = '%s'", action);
  return th_sql_long(sql, id);
}

static long mails(const char *template_key, const char *payment) {
  char sql[200];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM notifications WHERE template_key = '%s'"
                             " AND (data->>'payment_id' = $1 OR body LIKE '%%' || $1 || '%%')",
           template_key);
  return th_sql_long(sql, payment);
}

static void test_approve_partial(void **state) {
  (void)state;
  char pay[37], id[37];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  ask(payer, pay, "{\"amount\":1500,\"reason\":\"The coach did not come.\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"refund_request\",\"status\":\"pending\",\"amount\":1500,"
                        "\"currency\":\"USD\",\"reason\":\"The coach did not come.\"}", r.json);
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  assert_int_equal(audits(id, "refund_request.created"), 1);
  assert_true(mails("refund_requested", pay) >= 1); /* every admin */
  ask(payer, pay, "{\"reason\":\"again\"}", &r); /* one open request per payment */
  th_assert_error(&r, 409, "refund_request_open");
  th_response_free(&r);
  th_call(&srv, admin, "GET", "/api/v1/admin/refund-requests?status=pending&limit=100", NULL,
          NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, id));
  th_response_free(&r);
  decide(admin, id, "approve", NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"approved\"}", r.json);
  assert_non_null(th_str(r.json, "refund_id"));
  assert_non_null(th_str(r.json, "decided_at"));
  pf_assert_db("SELECT status || ' ' || amount FROM refunds WHERE id = (SELECT refund_id FROM"
               " refund_requests WHERE id = $1::uuid)", id, "succeeded 1500");
  th_response_free(&r);
  assert_int_equal(audits(id, "refund_request.approved"), 1);
  assert_int_equal(mails("refund_request_approved", pay), 1);
  decide(admin, id, "approve", NULL, &r); /* decided already */
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
}

static void test_reject(void **state) {
  (void)state;
  char pay[37], id[37];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  ask(payer, pay, "{\"reason\":\"Changed my mind\"}", &r);
  assert_int_equal(r.status, 201);
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  decide(admin, id, "reject", "{\"reason\":\"The session took place.\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"rejected\",\"decision_reason\":"
                        "\"The session took place.\",\"refund_id\":null}", r.json);
  th_response_free(&r);
  assert_int_equal(audits(id, "refund_request.rejected"), 1);
  assert_int_equal(mails("refund_request_rejected", pay), 1);
  pf_assert_db("SELECT amount_refunded::text FROM payments WHERE id = $1", pay, "0");
  ask(payer, pay, "{\"reason\":\"Asking again\"}", &r); /* a decided request is not open */
  assert_int_equal(r.status, 201);
  th_response_free(&r);
}

struct racer {
  const char *id;
  long status;
};

static void *approve(void *arg) {
  struct racer *x = arg;
  struct th_response r;
  decide(admin, x->id, "approve", NULL, &r);
  x->status = r.status;
  th_response_free(&r);
  return NULL;
}

static void test_two_admins_at_once(void **state) {
  (void)state;
  char pay[37], id[37];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, payer, PAID, 201));
  struct th_response r;
  ask(payer, pay, "{\"reason\":\"Double charge\"}", &r);
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  struct racer racers[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    racers[i] = (struct racer){.id = id};
    pthread_create(&threads[i], NULL, approve, &racers[i]);
  }
  int ok = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    ok += racers[i].status == 200;
  }
  assert_int_equal(ok, 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM refunds WHERE payment_id = $1::uuid", pay),
                   1);
  pf_assert_db("SELECT amount_refunded::text FROM payments WHERE id = $1", pay, "5000");
}

static void test_bad_input(void **state) {
  (void)state;
  char pay[37];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, payer, PAID, 201));
  static const struct {
    const char *body, *param, *code;
  } cases[] = {
    {"{}", "reason", "missing_field"},
    {"{\"reason\":\"\"}", "reason", "too_short"},
    {"{\"reason\":12}", "reason", "invalid_type"},
    {"{\"reason\":\"x\",\"amount\":0}", "amount", "amount_not_positive"},
    {"{\"reason\":\"x\",\"amount\":\"10\"}", "amount", "invalid_type"},
    {"{\"reason\":\"x\",\"refund_all\":true}", "refund_all", "unknown_field"},
  };
  struct th_response r;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ask(payer, pay, cases[i].body, &r);
    th_assert_field_error(&r, cases[i].param, cases[i].code);
    th_response_free(&r);
  }
  ask(payer, pay, "{\"reason\":\"too much\",\"amount\":5001}", &r);
  th_assert_error(&r, 422, "payment_not_refundable");
  th_response_free(&r);
  ask(other, pay, "{\"reason\":\"not mine\"}", &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  const char *open = pf_pay(&srv, payer,
                            "{\"amount\":900,\"currency\":\"EUR\",\"payment_type\":\"other\"}", 201);
  ask(payer, open, "{\"reason\":\"not paid yet\"}", &r);
  th_assert_error(&r, 422, "payment_not_refundable");
  th_response_free(&r);
  ask(payer, "not-a-uuid", "{\"reason\":\"x\"}", &r);
  assert_int_equal(r.status, 404);
  th_response_free(&r);
  ask(payer, pay, "{\"reason\":\"fine\"}", &r);
  char id[37];
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  decide(payer, id, "approve", NULL, &r); /* users cannot decide */
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  decide(admin, id, "reject", "{}", &r);
  th_assert_field_error(&r, "reason", "missing_field");
  th_response_free(&r);
  decide(admin, id, "approve", "{\"amount\":-5}", &r);
  th_assert_field_error(&r, "amount", "amount_not_positive");
  th_response_free(&r);
  decide(admin, id, "approve", "{\"amount\":9999}", &r); /* more than is left: stays pending */
  th_assert_error(&r, 422, "amount_exceeds_refundable");
  th_response_free(&r);
  pf_assert_db("SELECT status FROM refund_requests WHERE id = $1", id, "pending");
  th_call(&srv, admin, "GET", "/api/v1/admin/refund-requests?status=open", NULL, NULL, &r);
  th_assert_field_error(&r, "status", "invalid_filter");
  th_response_free(&r);
  th_call(&srv, payer, "GET", "/api/v1/admin/refund-requests", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
}

static void test_idempotency_key(void **state) {
  (void)state;
  char pay[37], path[128], first[37];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, payer, PAID, 201));
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refund-requests", pay);
  struct th_response r;
  pf_call(&srv, payer, "POST", path, "rr-key-1", "{\"reason\":\"Twice charged\"}", &r);
  assert_int_equal(r.status, 201);
  snprintf(first, sizeof(first), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  pf_call(&srv, payer, "POST", path, "rr-key-1", "{\"reason\":\"Twice charged\"}", &r);
  assert_int_equal(r.status, 201); /* the same answer, not a 409 */
  assert_string_equal(th_str(r.json, "id"), first);
  assert_non_null(th_header(&r, "Idempotent-Replayed"));
  th_response_free(&r);
  pf_call(&srv, payer, "POST", path, "rr-key-1", "{\"reason\":\"Another\"}", &r);
  th_assert_error(&r, 400, "idempotency_key_reused");
  th_response_free(&r);
  assert_int_equal(th_sql_long("SELECT count(*) FROM refund_requests WHERE payment_id = $1::uuid",
                               pay), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_approve_partial),
    cmocka_unit_test(test_reject),
    cmocka_unit_test(test_two_admins_at_once),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_idempotency_key),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

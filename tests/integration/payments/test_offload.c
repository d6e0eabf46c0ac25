/* Integration: the routes that wait on a payment provider or a password hash run on the
 * offload pool (api/http/offload.h), so a slow Stripe holds no HTTP thread: with two HTTP
 * threads and four payments hanging at the fake Stripe, /healthz and /users/me answer
 * meanwhile; replies come back whole (status, headers, body); HERALD_HTTP_OFFLOAD_THREADS=0
 * runs them on the HTTP threads; stopping the server answers what the pool holds first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "http/offload.h"
#include "http/park.h"
#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *token;
static char user_id[37];

static const char visa_body[] =
    "{\"amount\":1200,\"currency\":\"USD\",\"payment_type\":\"coaching_session\","
    "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}";

/* Starts the server with http_threads HTTP threads and offload_threads offload threads. */
static void start(const char *http_threads, const char *offload_threads) {
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_TIMEOUT_MS", "15000", 1); /* the hangs below stay inside it */
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_HTTP_THREADS", http_threads, 1);
  setenv("HERALD_HTTP_OFFLOAD_THREADS", offload_threads, 1);
  th_start(&srv);
  token = th_user(&srv, "offload", NULL, user_id);
}

static void stop(void) {
  free(token);
  token = NULL;
  th_stop(&srv);
}

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  fs_stop(&fake);
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

struct payer {
  char key[40];
  long status;
  json_t *json; /* owned */
};

static void *pay(void *arg) {
  struct payer *p = arg;
  struct th_response r;
  pf_call(&srv, token, "POST", "/api/v1/payments", p->key, visa_body, &r);
  p->status = r.status;
  p->json = json_incref(r.json);
  th_response_free(&r);
  return NULL;
}

/* The handlers the offload pool has run, ever. */
static unsigned long ran(void) {
  struct h_offload_stats st;
  h_offload_stats(srv.app.offload, &st);
  return st.ran;
}

/* Fails unless /metrics shows the line "name value". */
static void assert_metric(const char *name, long value) {
  struct th_response r;
  th_request(&srv, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  char line[96];
  snprintf(line, sizeof(line), "\n%s %ld\n", name, value);
  if (strstr(r.body, line) == NULL) {
    fail_msg("/metrics has no \"%s %ld\"", name, value);
  }
  th_response_free(&r);
}

/* Starts n payments whose PaymentIntent hangs hang_s seconds at the fake, and returns once
 * the fake holds arrived of them (the others wait for an offload thread). */
static void start_hanging(struct payer *p, pthread_t *t, int n, int arrived, double hang_s) {
  long calls = fs_calls(&fake, "POST /v1/payment_intents");
  fs_inject(&fake, "POST", "/v1/payment_intents", "hang", n, hang_s);
  for (int i = 0; i < n; i++) {
    p[i] = (struct payer){0};
    h_uuid_v4(p[i].key);
    assert_int_equal(pthread_create(&t[i], NULL, pay, &p[i]), 0);
  }
  for (int i = 0; i < 500 && fs_calls(&fake, "POST /v1/payment_intents") < calls + arrived; i++) {
    sleep_ms(10);
  }
  sleep_ms(100); /* none more arrives */
  assert_int_equal(fs_calls(&fake, "POST /v1/payment_intents"), calls + arrived);
}

/* Joins the payers: each one paid (201, succeeded) and recorded. */
static void assert_paid(struct payer *p, pthread_t *t, int n) {
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(p[i].status, 201);
    th_assert_json_subset("{\"status\":\"succeeded\",\"amount\":1200}", p[i].json);
    assert_int_equal(th_sql_long("SELECT count(*) FROM payments WHERE idempotency_key = $1"
                                 " AND status = 'succeeded'", p[i].key), 1);
    json_decref(p[i].json);
  }
}

/* Two HTTP threads, four payments waiting on Stripe through three offload threads: every one
 * is parked (three at the fake, one waiting for a thread, as /metrics shows), and the same
 * listener answers /healthz and /users/me while they all still wait. Without the pool the
 * payments would hold both HTTP threads and those requests would queue behind them. */
static void test_waiting_payments_hold_no_http_thread(void **state) {
  (void)state;
  start("2", "3");
  unsigned long before = ran();
  enum { N = 4 };
  struct payer p[N];
  pthread_t t[N];
  start_hanging(p, t, N, 3, 3.0);
  assert_int_equal(h_park_count(), N);
  assert_metric("herald_offload_threads", 3);
  assert_metric("herald_offload_busy", 3);
  assert_metric("herald_offload_queued", 1);
  const char *auth[] = {th_bearer(token), NULL};
  for (int i = 0; i < 5; i++) {
    struct th_response r;
    th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
    th_request(&srv, "GET", "/api/v1/users/me", auth, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(th_str(r.json, "id"), user_id);
    th_response_free(&r);
  }
  assert_int_equal(h_park_count(), N); /* answered while every payment still waited */
  assert_paid(p, t, N);
  assert_int_equal(h_park_count(), 0);
  assert_int_equal(ran(), before + N);
  assert_metric("herald_offload_busy", 0);
  assert_metric("herald_offload_queued", 0);
  assert_metric("herald_offload_requests_total", (long)before + N);
  stop();
}

/* What a handler on the pool replies arrives whole: its status, its headers and the
 * middleware's, its body; a decline (402) and a replay with its header, the request id
 * echoed. Signing up and in (password hashes) run there too. */
static void test_offloaded_replies_arrive_whole(void **state) {
  (void)state;
  start("2", "2");
  unsigned long before = ran();
  char *other = th_user(&srv, "offload-2", NULL, NULL); /* register + login */
  free(other);
  assert_int_equal(ran(), before + 2);

  struct th_response r;
  th_request(&srv, "POST", "/api/v1/auth/login", NULL,
             "{\"email\":\"nobody-offload@example.com\",\"password\":\"wrong-password-1\"}", &r);
  th_assert_error(&r, 401, "invalid_credentials");
  th_response_free(&r);
  assert_int_equal(ran(), before + 3);

  char key[40];
  h_uuid_v4(key);
  fs_inject(&fake, "POST", "/v1/payment_intents", "card_declined", 1, 0);
  pf_call(&srv, token, "POST", "/api/v1/payments", key, visa_body, &r);
  th_assert_error(&r, 402, "card_declined");
  assert_string_equal(th_header(&r, "Cache-Control"), "no-store");
  th_response_free(&r);

  const char *h[] = {th_bearer(token), "Idempotency-Key: ", "X-Request-Id: offload-replay-1",
                     NULL};
  char idem[80];
  snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
  h[1] = idem;
  th_request(&srv, "POST", "/api/v1/payments", h, visa_body, &r);
  th_assert_error(&r, 402, "card_declined");
  assert_string_equal(th_header(&r, "Idempotent-Replayed"), "true");
  assert_string_equal(th_header(&r, "X-Request-Id"), "offload-replay-1");
  assert_non_null(strstr(th_header(&r, "Content-Type"), "application/json"));
  th_response_free(&r);
  assert_int_equal(ran(), before + 5);
  assert_int_equal(h_park_count(), 0);
  stop();
}

/* HERALD_HTTP_OFFLOAD_THREADS=0: no pool; a payment waits on its HTTP thread (nothing
 * parks) and is answered as before. */
static void test_offload_off(void **state) {
  (void)state;
  start("4", "0");
  assert_null(srv.app.offload);
  struct payer p[1];
  pthread_t t[1];
  start_hanging(p, t, 1, 1, 1.0);
  assert_int_equal(h_park_count(), 0);
  assert_paid(p, t, 1);
  stop();
}

static void *stop_server(void *arg) {
  (void)arg;
  th_stop(&srv);
  return NULL;
}

/* Stopping the server while payments wait on the pool answers them first (201): MHD stops
 * only once the pool has run everything it was handed and none is left parked. */
static void test_stop_answers_offloaded(void **state) {
  (void)state;
  start("2", "2");
  enum { N = 2 };
  struct payer p[N];
  pthread_t t[N], stopper;
  start_hanging(p, t, N, N, 1.5);
  pthread_create(&stopper, NULL, stop_server, NULL);
  sleep_ms(300); /* the stop waits for them */
  assert_int_equal(h_park_count(), N);
  assert_paid(p, t, N);
  pthread_join(stopper, NULL);
  free(token);
  token = NULL;
  assert_int_equal(h_park_count(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_waiting_payments_hold_no_http_thread),
    cmocka_unit_test(test_offloaded_replies_arrive_whole),
    cmocka_unit_test(test_offload_off),
    cmocka_unit_test(test_stop_answers_offloaded),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: behind a trusted load balancer (HERALD_TRUSTED_PROXIES) the client address
 * comes from X-Forwarded-For: per-IP limits count each client apart, audit rows record it,
 * (IPv6 clients per /64), audit rows record it, and a forged left part of the header or a
 * malformed one does not move the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct th_server srv;
static unsigned run; /* per run, so the Redis counters of earlier runs do not count */

static int setup(void **state) {
  (void)state;
  setenv("HERALD_TRUSTED_PROXIES", "127.0.0.1", 1); /* the test client is the "proxy" */
  setenv("HERALD_AUTH_RATE_LIMIT", "3", 1);
  setenv("HERALD_AUTH_RATE_WINDOW_S", "30", 1);
  th_start(&srv);
  th_redis_del_keys("herald:rl:*127.0.0.1*"); /* other test programs sign in from there */
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  run = (unsigned)rand();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

/* A client address unique to this run: 198.18.x.y (the benchmarking block). */
static void client_ip(int k, char *out, size_t outlen) {
  snprintf(out, outlen, "198.18.%u.%u", (run + (unsigned)k * 7u) % 250u + 1u, (run >> 8) % 250u + 1u);
}

static long login_from(const char *xff) {
  char header[128];
  snprintf(header, sizeof(header), "X-Forwarded-For: %s", xff);
  const char *headers[] = {header, NULL};
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/auth/login", xff != NULL ? headers : NULL,
             "{\"email\":\"nobody-forwarded@example.com\",\"password\":\"whatever-123\"}", &r);
  long status = r.status;
  th_response_free(&r);
  return status;
}

static void test_limit_per_forwarded_client(void **state) {
  (void)state;
  char a[32], b[32], forged[64];
  client_ip(1, a, sizeof(a));
  client_ip(2, b, sizeof(b));
  for (int i = 0; i < 3; i++) {
    assert_int_equal(login_from(a), 401);
  }
  assert_int_equal(login_from(a), 429);
  /* Another client behind the same proxy is not limited by a's failures. */
  assert_int_equal(login_from(b), 401);
  /* A forged address further left does not escape the limit: the proxy's hop counts. */
  snprintf(forged, sizeof(forged), "6.6.6.6, %s", a);
  assert_int_equal(login_from(forged), 429);
}

static void test_malformed_header_falls_back(void **state) {
  (void)state;
  char c[32], bad[64];
  client_ip(3, c, sizeof(c));
  for (int i = 0; i < 3; i++) {
    assert_int_equal(login_from(c), 401);
  }
  assert_int_equal(login_from(c), 429);
  /* A malformed right-most entry: the client is the peer (127.0.0.1, whose counters setup
   * cleared), not c, so c's limit does not apply. */
  snprintf(bad, sizeof(bad), "%s, not-an-ip", c);
  assert_int_equal(login_from(bad), 401);
}

/* An IPv6 address of this run: 2001:db8:<run>:<net>::<host>. */
static void client_ipv6(unsigned net, unsigned host, char *out, size_t outlen) {
  snprintf(out, outlen, "2001:db8:%x:%x::%x", run % 0xffffu, net, host);
}

static void test_ipv6_clients_share_a_64(void **state) {
  (void)state;
  char ip[64], bracketed[72];
  for (unsigned host = 1; host <= 3; host++) { /* three addresses of one /64 */
    client_ipv6(1, host, ip, sizeof(ip));
    assert_int_equal(login_from(ip), 401);
  }
  client_ipv6(1, 0xbeef, ip, sizeof(ip));
  assert_int_equal(login_from(ip), 429);
  snprintf(bracketed, sizeof(bracketed), "[%s]", ip);
  assert_int_equal(login_from(bracketed), 429);
  /* The neighbouring /64 is another subscriber. */
  client_ipv6(2, 1, ip, sizeof(ip));
  assert_int_equal(login_from(ip), 401);
}

static void test_audit_records_the_client(void **state) {
  (void)state;
  char ip[32], header[64], user_id[37];
  client_ip(4, ip, sizeof(ip));
  snprintf(header, sizeof(header), "X-Forwarded-For: %s", ip);
  char *email = th_unique_email("forwarded");
  char body[256];
  snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"Forwarded-pass-123\"}", email);
  const char *headers[] = {header, NULL};
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/auth/register", headers, body, &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
  PGconn *c = th_db_connect();
  const char *lookup[] = {email};
  PGresult *found = PQexecParams(c, "SELECT id FROM users WHERE email = $1", 1, NULL, lookup,
                                 NULL, NULL, 0);
  assert_int_equal(PQntuples(found), 1);
  snprintf(user_id, sizeof(user_id), "%s", PQgetvalue(found, 0, 0));
  PQclear(found);
  const char *params[] = {user_id};
  PGresult *res = PQexecParams(c,
                               "SELECT DISTINCT ip FROM audit_log WHERE target_id = $1 OR"
                               " actor_id = $1::uuid",
                               1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(res), 1);
  assert_string_equal(PQgetvalue(res, 0, 0), ip);
  PQclear(res);
  PQfinish(c);
  free(email);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_limit_per_forwarded_client),
    cmocka_unit_test(test_malformed_header_falls_back),
    cmocka_unit_test(test_ipv6_clients_share_a_64),
    cmocka_unit_test(test_audit_records_the_client),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

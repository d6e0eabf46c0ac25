/* Integration: HERALD_PROBE_PORT serves the probes on their own listener and threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void test_probe_listener(void **state) {
  (void)state;
  char port[16];
  snprintf(port, sizeof(port), "%d", th_free_port());
  setenv("HERALD_PROBE_PORT", port, 1);
  struct th_server srv;
  th_start(&srv);
  assert_int_equal(h_server_probe_port(srv.server), atoi(port));
  struct th_server probe = srv; /* same process, the probe listener's address */
  snprintf(probe.base, sizeof(probe.base), "http://127.0.0.1:%s", port);
  struct th_response r;
  th_request(&probe, "GET", "/healthz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"ok\"}", r.json);
  assert_non_null(th_header(&r, "X-Request-Id"));
  th_response_free(&r);
  th_request(&probe, "GET", "/readyz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_request(&probe, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "herald_http_requests_total"));
  th_response_free(&r);
  /* Only the probes are served there. */
  th_request(&probe, "GET", "/api/v1/openapi.json", NULL, NULL, &r);
  assert_true(r.status == 404 || r.status == 405);
  th_response_free(&r);
  th_request(&probe, "POST", "/api/v1/auth/login", NULL, "{\"email\":\"a@b.co\",\"password\":\"x\"}",
             &r);
  assert_true(r.status == 404 || r.status == 405);
  th_response_free(&r);
  /* The main port still serves everything. */
  th_request(&srv, "GET", "/api/v1/openapi.json", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_stop(&srv);
  unsetenv("HERALD_PROBE_PORT");
}

static void test_bad_probe_port(void **state) {
  (void)state;
  setenv("HERALD_PROBE_PORT", "70000", 1);
  struct h_config cfg;
  char *error = NULL;
  assert_int_equal(h_config_load(&cfg, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_PROBE_PORT"));
  free(error);
  unsetenv("HERALD_PROBE_PORT");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_probe_listener),
    cmocka_unit_test(test_bad_probe_port),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Integration: HERALD_PROBE_PORT serves the probes on their own listener and threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "core/version.h"

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
  json_t *version = json_object_get(r.json, "version");
  assert_string_equal(json_string_value(json_object_get(version, "version")), h_version_number);
  assert_string_equal(json_string_value(json_object_get(version, "commit")), h_version_commit);
  assert_non_null(json_string_value(json_object_get(version, "build_type")));
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
  /* The probe listener reads no big bodies (nothing there takes one). */
  char *big = h_calloc(1, 64 * 1024 + 1);
  memset(big, 'a', 64 * 1024);
  th_request(&probe, "POST", "/healthz", NULL, big, &r);
  assert_int_equal(r.status, 413);
  th_assert_json_subset("{\"error\":{\"type\":\"invalid_request_error\"}}", r.json);
  th_response_free(&r);
  th_request(&probe, "GET", "/healthz", NULL, "{}", &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  free(big);
  /* The main port still serves everything. */
  th_request(&srv, "GET", "/api/v1/openapi.json", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_stop(&srv);
  unsetenv("HERALD_PROBE_PORT");
}

/* Starts srv with the probe port on a free port; probe addresses that port (same process). */
static void start_with_probe_port(struct th_server *srv, struct th_server *probe) {
  char port[16];
  snprintf(port, sizeof(port), "%d", th_free_port());
  setenv("HERALD_PROBE_PORT", port, 1);
  th_start(srv);
  *probe = *srv;
  snprintf(probe->base, sizeof(probe->base), "http://127.0.0.1:%s", port);
}

/* /metrics on the main port: with HERALD_METRICS_TOKEN only for its bearer; without one
 * only for local scrapes; on the probe port always. */
static void test_metrics_access(void **state) {
  (void)state;
  setenv("HERALD_METRICS_TOKEN", "scrape-secret-0123456789", 1);
  struct th_server srv, probe;
  start_with_probe_port(&srv, &probe);
  struct th_response r;
  th_request(&srv, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  th_assert_json_subset("{\"error\":{\"code\":\"metrics_token_required\"}}", r.json);
  assert_non_null(th_header(&r, "WWW-Authenticate"));
  th_response_free(&r);
  const char *wrong[] = {"Authorization: Bearer scrape-secret-01234567890", NULL};
  th_request(&srv, "GET", "/metrics", wrong, NULL, &r);
  assert_int_equal(r.status, 401);
  th_response_free(&r);
  const char *right[] = {"Authorization: Bearer scrape-secret-0123456789", NULL};
  th_request(&srv, "GET", "/metrics", right, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "herald_http_requests_total"));
  th_response_free(&r);
  th_request(&probe, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_stop(&srv);
  unsetenv("HERALD_METRICS_TOKEN");
  unsetenv("HERALD_PROBE_PORT");

  th_start(&srv); /* no token: local scrapes only, never through a proxy */
  th_request(&srv, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  const char *proxied[] = {"X-Forwarded-For: 203.0.113.9", NULL};
  th_request(&srv, "GET", "/metrics", proxied, NULL, &r);
  assert_int_equal(r.status, 403);
  th_assert_json_subset("{\"error\":{\"code\":\"metrics_not_public\"}}", r.json);
  th_response_free(&r);
  th_stop(&srv);
}

/* Threads of this process (every server of the test runs in it). */
static int thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  assert_non_null(f);
  char line[256];
  int n = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "Threads:", 8) == 0) {
      n = atoi(line + 8);
    }
  }
  fclose(f);
  return n;
}

/* The threads a server started with HERALD_PROBE_THREADS=n added to the process. */
static int threads_with_probe_threads(const char *n) {
  setenv("HERALD_PROBE_THREADS", n, 1);
  int before = thread_count();
  struct th_server srv, probe;
  start_with_probe_port(&srv, &probe);
  struct th_response r;
  th_request(&probe, "GET", "/healthz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  int added = thread_count() - before;
  th_stop(&srv);
  unsetenv("HERALD_PROBE_THREADS");
  unsetenv("HERALD_PROBE_PORT");
  return added;
}

/* HERALD_PROBE_THREADS sets the probe port's threads: 5 start four more than 1. */
static void test_probe_threads(void **state) {
  (void)state;
  int one = threads_with_probe_threads("1");
  int five = threads_with_probe_threads("5");
  assert_int_equal(five - one, 4);
  setenv("HERALD_PROBE_THREADS", "0", 1);
  struct h_config cfg;
  char *error = NULL;
  assert_int_equal(h_config_load(&cfg, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_PROBE_THREADS"));
  free(error);
  unsetenv("HERALD_PROBE_THREADS");
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
    cmocka_unit_test(test_metrics_access),
    cmocka_unit_test(test_probe_threads),
    cmocka_unit_test(test_bad_probe_port),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

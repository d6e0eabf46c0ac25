/* Integration: HERALD_PROBE_PORT serves the probes on their own listener and threads, and
 * HERALD_HTTP_NICE lets those threads go before the main listener's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
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

/* /metrics on the main port: with HERALD_METRICS_TOKEN only for its bearer; without one
 * only for local scrapes; on the probe port always. */
static void test_metrics_access(void **state) {
  (void)state;
  char port[16];
  snprintf(port, sizeof(port), "%d", th_free_port());
  setenv("HERALD_PROBE_PORT", port, 1);
  setenv("HERALD_METRICS_TOKEN", "scrape-secret-0123456789", 1);
  struct th_server srv;
  th_start(&srv);
  struct th_server probe = srv;
  snprintf(probe.base, sizeof(probe.base), "http://127.0.0.1:%s", port);
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

/* How many threads of this process run at nice value nice (/proc/self/task/N/stat). */
static int threads_at_nice(int nice) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
    char path[300], line[1024];
    snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
    FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
    if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
      const char *p = strrchr(line, ')'); /* fields after the command name: state is 3 */
      int field = 2, value = 0;
      for (; p != NULL && *p != '\0' && field < 19; p++) {
        field += *p == ' ';
      }
      if (p != NULL && sscanf(p, "%d", &value) == 1 && value == nice) {
        n++;
      }
    }
    if (f != NULL) {
      fclose(f);
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  return n;
}

/* HERALD_HTTP_NICE: the main listener's request threads run nicer than the rest of the
 * process (the probe listener's threads, the committers); 0 leaves them alone. */
static void test_request_threads_nicer(void **state) {
  (void)state;
  int base = getpriority(PRIO_PROCESS, 0);
  struct th_server srv;
  struct th_response r;
  setenv("HERALD_HTTP_NICE", "0", 1);
  th_start(&srv);
  int before = threads_at_nice(base + 7);
  th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  assert_int_equal(threads_at_nice(base + 7), before);
  th_stop(&srv);
  setenv("HERALD_HTTP_NICE", "7", 1);
  th_start(&srv);
  for (int i = 0; i < 8; i++) { /* reaches at least one of the pool's threads */
    th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
  }
  assert_true(threads_at_nice(base + 7) > before);
  assert_int_equal(getpriority(PRIO_PROCESS, 0), base); /* this thread: unchanged */
  th_stop(&srv);
  unsetenv("HERALD_HTTP_NICE");
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
    cmocka_unit_test(test_request_threads_nicer),
    cmocka_unit_test(test_bad_probe_port),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

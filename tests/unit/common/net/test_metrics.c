/* Unit tests of common/net/metrics.c: bounded label sets and series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/metrics.h"

/* The text exposition of m; caller frees. */
static char *render(struct h_metrics *m) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  h_metrics_render(m, out);
  fclose(out);
  return text;
}

static void test_method_labels(void **state) {
  (void)state;
  assert_string_equal(h_metrics_method_label("GET"), "GET");
  assert_string_equal(h_metrics_method_label("OPTIONS"), "OPTIONS");
  assert_string_equal(h_metrics_method_label("get"), "other");
  assert_string_equal(h_metrics_method_label("PROPFIND"), "other");
  assert_string_equal(h_metrics_method_label(""), "other");
  assert_string_equal(h_metrics_method_label(NULL), "other");
}

static void test_unknown_methods_share_one_series(void **state) {
  (void)state;
  struct h_metrics *m = h_metrics_create();
  char method[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(method, sizeof(method), "M%05d", i);
    h_metrics_observe(m, "unmatched", method, 405, 0.001);
  }
  assert_int_equal(h_metrics_series_count(m), 1);
  char *text = render(m);
  assert_non_null(strstr(text, "herald_http_requests_total{route=\"unmatched\",method=\"other\","
                               "status=\"405\"} 10000\n"));
  assert_null(strstr(text, "M00042"));
  free(text);
  h_metrics_destroy(m);
}

static void test_odd_statuses_are_other(void **state) {
  (void)state;
  struct h_metrics *m = h_metrics_create();
  h_metrics_observe(m, "/healthz", "GET", 0, 0.001);
  h_metrics_observe(m, "/healthz", "GET", 1000, 0.001);
  h_metrics_observe(m, "/healthz", "GET", 200, 0.001);
  assert_int_equal(h_metrics_series_count(m), 2);
  char *text = render(m);
  assert_non_null(strstr(text, "{route=\"/healthz\",method=\"GET\",status=\"other\"} 2\n"));
  assert_non_null(strstr(text, "{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"));
  free(text);
  h_metrics_destroy(m);
}

static void test_series_are_capped(void **state) {
  (void)state;
  struct h_metrics *m = h_metrics_create();
  char route[32];
  for (int i = 0; i < H_METRICS_MAX_SERIES + 500; i++) {
    snprintf(route, sizeof(route), "/r/%d", i);
    h_metrics_observe(m, route, "GET", 200, 0.002);
    h_metrics_observe(m, route, "GET", 200, 0.002); /* found again, not added twice */
  }
  assert_int_equal(h_metrics_series_count(m), H_METRICS_MAX_SERIES + 1);
  char *text = render(m);
  assert_non_null(strstr(text, "herald_http_requests_total{route=\"other\",method=\"other\","
                               "status=\"other\"} 1000\n"));
  assert_non_null(strstr(text, "{route=\"/r/0\",method=\"GET\",status=\"200\"} 2\n"));
  assert_null(strstr(text, "\"/r/1100\""));
  free(text);
  h_metrics_destroy(m);
}

static void test_histogram_is_cumulative(void **state) {
  (void)state;
  struct h_metrics *m = h_metrics_create();
  h_metrics_observe(m, "/x", "POST", 202, 0.0004);
  h_metrics_observe(m, "/x", "POST", 202, 0.02);
  h_metrics_observe(m, "/x", "POST", 202, 9.0);
  char *text = render(m);
  assert_non_null(strstr(text, "bucket{route=\"/x\",method=\"POST\",status=\"202\",le=\"0.0005\"} 1\n"));
  assert_non_null(strstr(text, "bucket{route=\"/x\",method=\"POST\",status=\"202\",le=\"0.025\"} 2\n"));
  assert_non_null(strstr(text, "bucket{route=\"/x\",method=\"POST\",status=\"202\",le=\"+Inf\"} 3\n"));
  assert_non_null(strstr(text, "_count{route=\"/x\",method=\"POST\",status=\"202\"} 3\n"));
  free(text);
  h_metrics_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_method_labels),
    cmocka_unit_test(test_unknown_methods_share_one_series),
    cmocka_unit_test(test_odd_statuses_are_other),
    cmocka_unit_test(test_series_are_capped),
    cmocka_unit_test(test_histogram_is_cumulative),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

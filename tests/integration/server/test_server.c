/* Integration: the middleware every request goes through, over real HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"

static struct th_server srv;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_CORS_ORIGINS", "https://app.example.com", 1);
  setenv("HERALD_MAX_BODY_BYTES", "4096", 1);
  setenv("HERALD_MAX_JSON_DEPTH", "8", 1);
  th_start(&srv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

static void test_healthz(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "GET", "/healthz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"ok\"}", r.json);
  assert_string_equal(th_header(&r, "X-Content-Type-Options"), "nosniff");
  assert_string_equal(th_header(&r, "Cache-Control"), "no-store");
  assert_non_null(th_header(&r, "X-Request-Id"));
  assert_null(th_header(&r, "Strict-Transport-Security"));
  th_response_free(&r);
}

static void test_request_id_echoed_or_generated(void **state) {
  (void)state;
  struct th_response r;
  const char *h[] = {"X-Request-Id: trace-abc.123", NULL};
  th_request(&srv, "GET", "/healthz", h, NULL, &r);
  assert_string_equal(th_header(&r, "X-Request-Id"), "trace-abc.123");
  th_response_free(&r);
  const char *bad[] = {"X-Request-Id: has spaces in it", NULL};
  th_request(&srv, "GET", "/healthz", bad, NULL, &r);
  assert_string_not_equal(th_header(&r, "X-Request-Id"), "has spaces in it");
  assert_int_equal(strlen(th_header(&r, "X-Request-Id")), 36);
  th_response_free(&r);
}

static void test_unknown_route_is_json_404(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "GET", "/api/v1/nothing-here", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  assert_string_equal(th_header(&r, "Content-Type"), "application/json");
  th_response_free(&r);
}

static void test_wrong_method_is_405_with_allow(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "DELETE", "/healthz", NULL, NULL, &r);
  th_assert_error(&r, 405, "method_not_allowed");
  assert_string_equal(th_header(&r, "Allow"), "GET");
  th_response_free(&r);
}

static void test_malformed_json_is_400(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/anything", NULL, "{\"a\": ", &r);
  th_assert_error(&r, 400, "malformed_json");
  th_response_free(&r);
  th_request(&srv, "POST", "/api/v1/anything", NULL, "{\"a\":1,\"a\":2}", &r);
  th_assert_error(&r, 400, "malformed_json");
  th_response_free(&r);
}

static void test_too_deep_json_is_400(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/anything", NULL, "[[[[[[[[[[1]]]]]]]]]]", &r);
  th_assert_error(&r, 400, "json_too_deep");
  th_response_free(&r);
}

static void test_wrong_content_type_is_415(void **state) {
  (void)state;
  struct th_response r;
  const char *h[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  th_request(&srv, "POST", "/api/v1/anything", h, "a=1", &r);
  th_assert_error(&r, 415, "unsupported_media_type");
  th_response_free(&r);
  const char *none[] = {"Content-Type:", NULL};
  th_request(&srv, "POST", "/api/v1/anything", none, "{}", &r);
  th_assert_error(&r, 415, "unsupported_media_type");
  th_response_free(&r);
}

static void test_oversize_body_is_413(void **state) {
  (void)state;
  char *big = h_malloc(10001);
  memset(big, ' ', 10000);
  big[0] = '[';
  big[9999] = ']';
  big[10000] = '\0';
  struct th_response r;
  th_request(&srv, "POST", "/api/v1/anything", NULL, big, &r);
  th_assert_error(&r, 413, "body_too_large");
  th_response_free(&r);
  free(big);
}

static void test_cors(void **state) {
  (void)state;
  struct th_response r;
  const char *pre[] = {"Origin: https://app.example.com", "Access-Control-Request-Method: POST",
                       NULL};
  th_request(&srv, "OPTIONS", "/api/v1/notifications", pre, NULL, &r);
  assert_int_equal(r.status, 204);
  assert_string_equal(th_header(&r, "Access-Control-Allow-Origin"), "https://app.example.com");
  assert_non_null(strstr(th_header(&r, "Access-Control-Allow-Headers"), "Authorization"));
  th_response_free(&r);

  const char *evil[] = {"Origin: https://evil.example.com", NULL};
  th_request(&srv, "GET", "/healthz", evil, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(th_header(&r, "Access-Control-Allow-Origin"));
  th_response_free(&r);

  const char *good[] = {"Origin: https://app.example.com", NULL};
  th_request(&srv, "GET", "/healthz", good, NULL, &r);
  assert_string_equal(th_header(&r, "Access-Control-Allow-Origin"), "https://app.example.com");
  assert_string_equal(th_header(&r, "Vary"), "Origin");
  th_response_free(&r);
}

static void test_readyz_and_metrics(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "GET", "/readyz", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"ready\",\"checks\":{\"postgres\":\"ok\",\"redis\":\"ok\"}}",
                        r.json);
  th_response_free(&r);
  th_request(&srv, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(th_header(&r, "Content-Type"), "text/plain"));
  assert_non_null(strstr(r.body, "herald_http_requests_total{route=\"/readyz\",method=\"GET\","
                                 "status=\"200\"} 1"));
  assert_non_null(strstr(r.body, "herald_http_request_duration_seconds_bucket{route=\"/healthz\""));
  /* HERALD_DB_POOL_SIZE=0: the harness's 4 HTTP threads + 16 offload threads, at most 16 */
  assert_non_null(strstr(r.body, "herald_pool_size{pool=\"postgres\"} 16"));
  th_response_free(&r);
}

/* Label values come from a closed set: made-up methods do not become series. */
static void test_metrics_labels_are_bounded(void **state) {
  (void)state;
  struct th_response r;
  char method[32];
  for (int i = 0; i < 50; i++) {
    snprintf(method, sizeof(method), "X%dYZ", i);
    th_request(&srv, method, "/api/v1/nowhere", NULL, NULL, &r);
    assert_true(r.status >= 400);
    th_response_free(&r);
  }
  th_request(&srv, "GET", "/metrics", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, "X7YZ"));
  assert_non_null(strstr(r.body, "route=\"unmatched\",method=\"other\""));
  th_response_free(&r);
}

static void test_openapi_served(void **state) {
  (void)state;
  struct th_response r;
  th_request(&srv, "GET", "/api/v1/openapi.json", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_header(&r, "Content-Type"), "application/json");
  th_assert_json_subset("{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"Herald API\"}}", r.json);
  assert_non_null(json_object_get(json_object_get(r.json, "paths"), "/healthz"));
  th_response_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_healthz),
    cmocka_unit_test(test_request_id_echoed_or_generated),
    cmocka_unit_test(test_unknown_route_is_json_404),
    cmocka_unit_test(test_wrong_method_is_405_with_allow),
    cmocka_unit_test(test_malformed_json_is_400),
    cmocka_unit_test(test_too_deep_json_is_400),
    cmocka_unit_test(test_wrong_content_type_is_415),
    cmocka_unit_test(test_oversize_body_is_413),
    cmocka_unit_test(test_cors),
    cmocka_unit_test(test_readyz_and_metrics),
    cmocka_unit_test(test_metrics_labels_are_bounded),
    cmocka_unit_test(test_openapi_served),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests: route pattern matching and the Allow list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "notifications/notifications.h"
#include "http/routes.h"
#include "users/users.h"

static void test_match(void **state) {
  (void)state;
  assert_true(h_route_path_match("/healthz", "/healthz"));
  assert_true(h_route_path_match("/healthz", "/healthz/"));
  assert_false(h_route_path_match("/healthz", "/healthzz"));
  assert_false(h_route_path_match("/healthz", "/"));
  assert_true(h_route_path_match("/api/v1/users/:id", "/api/v1/users/42"));
  assert_false(h_route_path_match("/api/v1/users/:id", "/api/v1/users"));
  assert_false(h_route_path_match("/api/v1/users/:id", "/api/v1/users/42/x"));
  assert_true(h_route_path_match("/a/:x/b", "/a/1/b"));
  assert_false(h_route_path_match("/a/:x/b", "/a/1/c"));
}

static void test_find(void **state) {
  (void)state;
  const struct h_route *r = h_route_find("GET", "/api/v1/users/me", false);
  assert_non_null(r);
  assert_string_equal(r->path, "/api/v1/users/me");
  assert_ptr_equal(r->handler, h_me_get);
  assert_ptr_equal(h_route_find("DELETE", "/api/v1/users/me/", false)->handler, h_me_delete);
  /* a literal sibling beats ":id" whatever the method: DELETE unread-count is a 405 */
  assert_ptr_equal(h_route_find("GET", "/api/v1/notifications/unread-count", false)->handler,
                   h_notifications_unread_count_get);
  assert_null(h_route_find("DELETE", "/api/v1/notifications/unread-count", false));
  assert_ptr_equal(h_route_find("DELETE", "/api/v1/notifications/42", false)->handler,
                   h_notification_delete);
  assert_null(h_route_find("PUT", "/api/v1/notifications/42", false));
  assert_null(h_route_find("GET", "/api/v1/nope", false));
  assert_null(h_route_find("GET", "/api/v1/users/me/x/y", false));
  /* the probe listener knows three routes only */
  assert_non_null(h_route_find("GET", "/healthz", true));
  assert_non_null(h_route_find("GET", "/metrics", true));
  assert_null(h_route_find("GET", "/api/v1/users/me", true));
  assert_null(h_route_find("POST", "/healthz", true));
}

static void test_bind(void **state) {
  (void)state;
  struct _u_map map;
  u_map_init(&map);
  const char *path = "/api/v1/admin/templates/welcome.email/preview";
  const struct h_route *r = h_route_find("POST", path, false);
  assert_non_null(r);
  h_route_bind(r, path, &map);
  assert_string_equal(u_map_get(&map, "key"), "welcome.email");
  assert_int_equal(u_map_count(&map), 1);
  /* long values are bound whole, never cut */
  char longpath[600], longkey[401];
  memset(longkey, 'k', 400);
  longkey[400] = '\0';
  snprintf(longpath, sizeof(longpath), "/api/v1/admin/templates/%s", longkey);
  h_route_bind(h_route_find("GET", longpath, false), longpath, &map);
  assert_string_equal(u_map_get(&map, "key"), longkey);
  u_map_clean(&map);
}

static void test_allowed_methods(void **state) {
  (void)state;
  char allow[64];
  assert_int_equal(h_route_allowed_methods("/healthz", allow, sizeof(allow)), 1);
  assert_string_equal(allow, "GET");
  assert_int_equal(h_route_allowed_methods("/nope", allow, sizeof(allow)), 0);
  assert_string_equal(allow, "");
}

static void test_table_is_well_formed(void **state) {
  (void)state;
  int n = 0;
  for (const struct h_route *r = h_routes(); r->method != NULL; r++, n++) {
    assert_non_null(r->handler);
    assert_true(r->path[0] == '/');
  }
  assert_true(n >= 4);
}

/* Literal siblings of a ":id" route own their path: dispatch and 405 Allow follow them. */
static void test_route_specificity(void **state) {
  (void)state;
  assert_int_equal(h_route_specificity("/api/v1/notifications/:id", "/api/v1/notifications/x"), 3);
  assert_int_equal(h_route_specificity("/api/v1/notifications/unread-count",
                                       "/api/v1/notifications/unread-count"), 4);
  assert_int_equal(h_route_specificity("/api/v1/notifications/:id", "/api/v1/devices/x"), -1);
  const struct h_route *by_id = NULL, *count = NULL;
  for (const struct h_route *r = h_routes(); r->method != NULL; r++) {
    if (strcmp(r->method, "GET") == 0 && strcmp(r->path, "/api/v1/notifications/:id") == 0) {
      by_id = r;
    }
    if (strcmp(r->path, "/api/v1/notifications/unread-count") == 0) {
      count = r;
    }
  }
  assert_non_null(by_id);
  assert_non_null(count);
  assert_ptr_equal(h_route_find("GET", "/api/v1/notifications/unread-count", false), count);
  assert_ptr_equal(h_route_find("GET", "/api/v1/notifications/0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f",
                                false), by_id);
  char allow[128];
  h_route_allowed_methods("/api/v1/notifications/unread-count", allow, sizeof(allow));
  assert_string_equal(allow, "GET");
  h_route_allowed_methods("/api/v1/notifications/bulk", allow, sizeof(allow));
  assert_string_equal(allow, "POST");
  h_route_allowed_methods("/api/v1/notifications/42", allow, sizeof(allow));
  assert_string_equal(allow, "GET, DELETE");
}

/* Every route of the table answers a path of its own: its pattern with each ":name" segment
 * replaced by a value, which h_route_bind hands back under that name. */
static void test_every_route_finds_itself(void **state) {
  (void)state;
  int n = 0;
  for (const struct h_route *r = h_routes(); r->method != NULL; r++, n++) {
    char path[256] = "";
    size_t len = 0;
    int params = 0;
    for (const char *p = r->path; *p != '\0';) {
      size_t seg = strcspn(p + 1, "/") + 1; /* "/name" or "/:name" */
      len += (size_t)(p[1] == ':' ? snprintf(path + len, sizeof(path) - len, "/v%d-x", params++)
                                  : snprintf(path + len, sizeof(path) - len, "%.*s", (int)seg, p));
      p += seg;
    }
    const struct h_route *found = h_route_find(r->method, path, false);
    assert_non_null(found);
    assert_string_equal(found->path, r->path);
    assert_string_equal(found->method, r->method);
    struct _u_map map;
    u_map_init(&map);
    h_route_bind(found, path, &map);
    assert_int_equal(u_map_count(&map), params);
    u_map_clean(&map);
  }
  assert_true(n > 100);
}

static void test_slashes_and_depth(void **state) {
  (void)state;
  /* empty segments count for nothing, as a trailing slash */
  assert_ptr_equal(h_route_find("GET", "//api//v1/users/me//", false)->handler, h_me_get);
  assert_true(h_route_path_match("/api/v1/users/:id", "/api/v1//users/42/"));
  assert_int_equal(h_route_specificity("/a/:x", "/a//b"), 1);
  assert_null(h_route_find("GET", "", false));
  assert_null(h_route_find("GET", "/", false));
  assert_null(h_route_find("GET", "///", false));
  /* deeper than any route: matches none, and 404 (no Allow) rather than anything else */
  const char *deep = "/api/v1/users/me/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p";
  assert_null(h_route_find("GET", deep, false));
  char allow[64];
  assert_int_equal(h_route_allowed_methods(deep, allow, sizeof(allow)), 0);
  assert_string_equal(allow, "");
  assert_false(h_route_path_match(deep, deep)); /* no pattern is that deep either */
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_match),
    cmocka_unit_test(test_find),
    cmocka_unit_test(test_bind),
    cmocka_unit_test(test_allowed_methods),
    cmocka_unit_test(test_table_is_well_formed),
    cmocka_unit_test(test_route_specificity),
    cmocka_unit_test(test_every_route_finds_itself),
    cmocka_unit_test(test_slashes_and_depth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

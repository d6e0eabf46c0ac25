/* Integration: the signed-in user's account, admin user management, API keys and
 * the audit log; who may see what. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"

static struct th_server srv;
static char *admin;
static char admin_id[37];

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  th_start(&srv);
  admin = th_admin_token(&srv, admin_id);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&srv);
  return 0;
}

static void call(const char *token, const char *method, const char *path, const char *body,
                 struct th_response *r) {
  const char *h[] = {token != NULL ? th_bearer(token) : NULL, NULL};
  th_request(&srv, method, path, token != NULL ? h : NULL, body, r);
}

static void test_patch_me(void **state) {
  (void)state;
  char *email = th_unique_email("patch");
  char *token = th_register(&srv, email, NULL, NULL);
  struct th_response r;
  call(token, "PATCH", "/api/v1/users/me",
       "{\"name\":\"Bea\",\"phone\":\"+447700900123\",\"timezone\":\"Asia/Tokyo\","
       "\"locale\":\"ja\"}", &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"name\":\"Bea\",\"phone\":\"+447700900123\",\"timezone\":"
                        "\"Asia/Tokyo\",\"locale\":\"ja\"}", r.json);
  th_response_free(&r);
  call(token, "PATCH", "/api/v1/users/me", "{\"phone\":null}", &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_null(json_object_get(r.json, "phone")));
  assert_string_equal(th_str(r.json, "name"), "Bea");
  th_response_free(&r);
  call(token, "PATCH", "/api/v1/users/me",
       "{\"phone\":\"0123\",\"timezone\":\"Nowhere/City\",\"locale\":\"english\",\"email\":\"x\"}",
       &r);
  th_assert_error(&r, 400, "unknown_field");
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   4);
  th_response_free(&r);
  call(token, "PATCH", "/api/v1/users/me", "{\"timezone\":null}", &r);
  th_assert_error(&r, 400, "invalid_type");
  th_response_free(&r);
  call(token, "PATCH", "/api/v1/users/me", "\"just a string\"", &r);
  th_assert_error(&r, 400, "invalid_body");
  th_response_free(&r);
  free(token);
  free(email);
}

/* A field name whose error text is cut inside a character (64 bytes of "x" + "é"...) is not
 * valid UTF-8: the error must still be reported, a 400 naming the field. */
static void test_field_errors_fail_closed_on_bad_utf8(void **state) {
  (void)state;
  char *email = th_unique_email("utf8");
  char *token = th_register(&srv, email, NULL, NULL);
  char key[200] = "x";
  for (int i = 0; i < 40; i++) {
    strcat(key, "\xc3\xa9"); /* é: the 64-byte cut splits one */
  }
  char *body = h_sprintf("{\"name\":\"Utf Eight\",\"%s\":\"v\"}", key);
  struct th_response r;
  call(token, "PATCH", "/api/v1/users/me", body, &r);
  th_assert_error(&r, 400, "unknown_field");
  const char *param = th_str(json_object_get(r.json, "error"), "param");
  assert_non_null(param);
  assert_true(strncmp(param, "x\xc3\xa9", 3) == 0);
  th_response_free(&r);
  /* Bytes that are not UTF-8 inside a string value: refused as a whole, never half-read. */
  call(token, "PATCH", "/api/v1/users/me", "{\"name\":\"Bad \xff\xfe name\"}", &r);
  assert_int_equal(r.status, 400);
  th_response_free(&r);
  call(token, "GET", "/api/v1/users/me", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(th_str(r.json, "name")); /* nothing of either request was applied */
  th_response_free(&r);
  free(body);
  free(token);
  free(email);
}

static void test_change_password(void **state) {
  (void)state;
  char *rt = NULL;
  char *email = th_unique_email("chpw");
  char *token = th_register(&srv, email, NULL, &rt);
  struct th_response r;
  call(token, "POST", "/api/v1/users/me/password",
       "{\"current_password\":\"not-my-password\",\"new_password\":\"another-good-secret\"}", &r);
  th_assert_error(&r, 403, "incorrect_password");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/password",
       "{\"current_password\":\"" TH_PASSWORD "\",\"new_password\":\"password1\"}", &r);
  th_assert_error(&r, 400, "password_too_short");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/password", "{\"current_password\":\"" TH_PASSWORD "\"}",
       &r);
  th_assert_error(&r, 400, "missing_field");
  th_response_free(&r);
  call(token, "POST", "/api/v1/users/me/password",
       "{\"current_password\":\"" TH_PASSWORD "\",\"new_password\":\"another-good-secret\"}", &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  char *body = h_sprintf("{\"refresh_token\":\"%s\"}", rt);
  th_request(&srv, "POST", "/api/v1/auth/refresh", NULL, body, &r);
  th_assert_error(&r, 401, "invalid_refresh_token");
  th_response_free(&r);
  free(body);
  body = h_sprintf("{\"email\":\"%s\",\"password\":\"another-good-secret\"}", email);
  th_request(&srv, "POST", "/api/v1/auth/login", NULL, body, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  free(body);
  free(rt);
  free(token);
  free(email);
}

static void test_export_and_delete(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("gdpr");
  char *token = th_register(&srv, email, id, NULL);
  struct th_response r;
  call(token, "GET", "/api/v1/users/me/export", NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"user_export\"}", r.json);
  assert_string_equal(th_str(json_object_get(r.json, "user"), "email"), email);
  assert_true(json_array_size(json_object_get(r.json, "audit_log")) >= 1);
  assert_true(json_array_size(json_object_get(r.json, "sessions")) == 1);
  assert_non_null(strstr(th_header(&r, "Content-Disposition"), "attachment"));
  th_response_free(&r);

  call(token, "DELETE", "/api/v1/users/me", NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  call(token, "GET", "/api/v1/users/me", NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  PGconn *c = th_db_connect();
  const char *params[] = {id};
  PGresult *res = PQexecParams(c, "SELECT email, name, phone, status, password_hash,"
                               " (SELECT count(*) FROM audit_log WHERE target_id = $1"
                               "  AND action = 'user.deleted') FROM users WHERE id = $1::uuid",
                               1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQntuples(res), 1);
  assert_null(strstr(PQgetvalue(res, 0, 0), "gdpr"));
  assert_string_equal(PQgetvalue(res, 0, 3), "deleted");
  assert_string_equal(PQgetvalue(res, 0, 4), "!");
  assert_string_equal(PQgetvalue(res, 0, 5), "1");
  PQclear(res);
  PQfinish(c);
  /* The address is free again. */
  free(th_register(&srv, email, NULL, NULL));
  free(token);
  free(email);
}

static void test_admin_users(void **state) {
  (void)state;
  char id[37];
  char *email = th_unique_email("managed");
  char *user = th_register(&srv, email, id, NULL);
  struct th_response r;
  char *path = h_sprintf("/api/v1/admin/users?email=%.12s&limit=1", email);
  call(admin, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"object\":\"list\"}", r.json);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_response_free(&r);
  free(path);

  call(admin, "GET", "/api/v1/admin/users?limit=1", NULL, &r);
  assert_true(json_is_true(json_object_get(r.json, "has_more")));
  const char *first = th_str(json_array_get(json_object_get(r.json, "data"), 0), "id");
  path = h_sprintf("/api/v1/admin/users?limit=1&starting_after=%s", first);
  char *first_id = h_strdup(first);
  th_response_free(&r);
  call(admin, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_not_equal(th_str(json_array_get(json_object_get(r.json, "data"), 0), "id"),
                          first_id);
  th_response_free(&r);
  free(path);
  free(first_id);

  call(admin, "GET", "/api/v1/admin/users?limit=0&role=root&status=x&starting_after=1", NULL, &r);
  th_assert_error(&r, 400, "invalid_limit");
  assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"), "errors")),
                   4);
  th_response_free(&r);

  path = h_sprintf("/api/v1/admin/users/%s", id);
  call(admin, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "email"), email);
  th_response_free(&r);
  call(user, "GET", path, NULL, &r); /* users cannot read other accounts */
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  call(admin, "GET", "/api/v1/admin/users/8d5e1a4e-0000-4000-8000-000000000000", NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  call(admin, "GET", "/api/v1/admin/users/not-a-uuid", NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);

  call(admin, "PATCH", path, "{\"role\":\"superuser\"}", &r);
  th_assert_error(&r, 400, "invalid_role");
  th_response_free(&r);
  call(admin, "PATCH", path, "{}", &r);
  th_assert_error(&r, 400, "nothing_to_update");
  th_response_free(&r);
  call(admin, "PATCH", path, "{\"disabled\":\"yes\"}", &r);
  th_assert_error(&r, 400, "invalid_type");
  th_response_free(&r);
  call(admin, "PATCH", path, "{\"disabled\":true}", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "status"), "disabled");
  th_response_free(&r);
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  th_request(&srv, "POST", "/api/v1/auth/login", NULL, body, &r);
  th_assert_error(&r, 403, "account_disabled");
  th_response_free(&r);
  call(admin, "PATCH", path, "{\"disabled\":false,\"role\":\"admin\"}", &r);
  th_assert_json_subset("{\"status\":\"active\",\"role\":\"admin\"}", r.json);
  th_response_free(&r);
  free(path);

  path = h_sprintf("/api/v1/admin/users/%s", admin_id);
  call(admin, "PATCH", path, "{\"role\":\"user\"}", &r);
  th_assert_error(&r, 422, "cannot_demote_self");
  th_response_free(&r);
  free(path);
  /* The same id in capitals is still the admin's own account. */
  char upper[37];
  for (int i = 0; i < 37; i++) {
    upper[i] = (char)(admin_id[i] >= 'a' && admin_id[i] <= 'f' ? admin_id[i] - 32 : admin_id[i]);
  }
  path = h_sprintf("/api/v1/admin/users/%s", upper);
  call(admin, "PATCH", path, "{\"disabled\":true}", &r);
  th_assert_error(&r, 422, "cannot_demote_self");
  th_response_free(&r);
  call(admin, "PATCH", path, "{\"role\":\"user\"}", &r);
  th_assert_error(&r, 422, "cannot_demote_self");
  th_response_free(&r);
  free(path);
  free(body);
  free(user);
  free(email);
}

static void test_api_keys(void **state) {
  (void)state;
  struct th_response r;
  call(admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"billing-service\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"object\":\"api_key\",\"name\":\"billing-service\"}", r.json);
  char *secret = h_strdup(th_str(r.json, "secret"));
  char *id = h_strdup(th_str(r.json, "id"));
  assert_true(strncmp(secret, "hk_", 3) == 0);
  th_response_free(&r);

  call(admin, "GET", "/api/v1/admin/api-keys", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.body, secret));
  assert_null(strstr(r.body, "\"secret\""));
  th_response_free(&r);

  call(secret, "GET", "/api/v1/admin/users", NULL, &r); /* keys are not admins */
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);
  call(secret, "GET", "/api/v1/users/me", NULL, &r);
  th_assert_error(&r, 403, "forbidden");
  th_response_free(&r);

  char *path = h_sprintf("/api/v1/admin/api-keys/%s", id);
  call(admin, "DELETE", path, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  call(admin, "DELETE", path, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  call(secret, "GET", "/api/v1/users/me", NULL, &r);
  th_assert_error(&r, 401, "invalid_api_key");
  th_response_free(&r);

  call(admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"\"}", &r);
  th_assert_error(&r, 400, "too_short");
  th_response_free(&r);
  call(admin, "POST", "/api/v1/admin/api-keys", "{\"label\":\"x\"}", &r);
  th_assert_error(&r, 400, "unknown_field");
  th_response_free(&r);
  free(path);
  free(id);
  free(secret);
}

static void test_audit_log(void **state) {
  (void)state;
  struct th_response r;
  call(admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"audited\"}", &r);
  char *key_id = h_strdup(th_str(r.json, "id"));
  th_response_free(&r);
  char *path = h_sprintf("/api/v1/admin/audit-log?actor_id=%s&action=api_key.created"
                         "&target_id=%s&created_gte=2020-01-01T00:00:00Z", admin_id, key_id);
  call(admin, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_assert_json_subset("{\"object\":\"audit_log_entry\",\"action\":\"api_key.created\","
                        "\"actor_type\":\"user\",\"target_type\":\"api_key\","
                        "\"details\":{\"name\":\"audited\"}}",
                        json_array_get(json_object_get(r.json, "data"), 0));
  assert_non_null(th_str(json_array_get(json_object_get(r.json, "data"), 0), "request_id"));
  th_response_free(&r);
  call(admin, "GET", "/api/v1/admin/audit-log?created_lte=yesterday&actor_id=42", NULL, &r);
  th_assert_error(&r, 400, "invalid_id");
  th_response_free(&r);
  free(path);
  free(key_id);
}

/* The filter by action reads notification.created, the action of most rows, without an index
 * of its own (audit_log_action_idx leaves its rows out, migration 0108) and every other action
 * through that index: both listings answer the rows of their action. */
static void test_audit_log_by_action(void **state) {
  (void)state;
  struct th_response r;
  char *body = h_sprintf("{\"user_id\":\"%s\",\"category\":\"audit\",\"title\":\"audited\","
                         "\"body\":\"b\",\"channels\":[\"in_app\"]}", admin_id);
  char *ids[2];
  for (int i = 0; i < 2; i++) {
    call(admin, "POST", "/api/v1/notifications", body, &r);
    assert_int_equal(r.status, 202);
    ids[i] = h_strdup(th_str(r.json, "id"));
    th_response_free(&r);
  }
  call(admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"by-action\"}", &r);
  assert_int_equal(r.status, 201);
  char *key_id = h_strdup(th_str(r.json, "id"));
  th_response_free(&r);

  char *path = h_sprintf("/api/v1/admin/audit-log?action=notification.created&target_id=%s",
                         ids[1]);
  call(admin, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_assert_json_subset("{\"action\":\"notification.created\",\"target_type\":\"notification\"}",
                        json_array_get(json_object_get(r.json, "data"), 0));
  th_response_free(&r);
  free(path);
  call(admin, "GET", "/api/v1/admin/audit-log?action=notification.created&limit=2", NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *data = json_object_get(r.json, "data");
  assert_int_equal(json_array_size(data), 2);
  for (size_t i = 0; i < 2; i++) {
    assert_string_equal(th_str(json_array_get(data, i), "action"), "notification.created");
  }
  assert_string_equal(th_str(json_array_get(data, 0), "target_id"), ids[1]); /* newest first */
  assert_string_equal(th_str(json_array_get(data, 1), "target_id"), ids[0]);
  th_response_free(&r);
  call(admin, "GET", "/api/v1/admin/audit-log?action=api_key.created&limit=1", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  assert_string_equal(th_str(json_array_get(json_object_get(r.json, "data"), 0), "target_id"),
                      key_id);
  th_response_free(&r);

  /* With sequential and bitmap scans priced out, an action's rows are reached through the
   * index exactly when the index holds them. */
  PGconn *c = th_db_connect();
  PGresult *res = PQexec(c, "SET enable_seqscan = off; SET enable_bitmapscan = off");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  const char *actions[] = {"api_key.created", "notification.created"};
  for (int i = 0; i < 2; i++) {
    res = PQexecParams(c, "EXPLAIN (COSTS OFF) SELECT id FROM audit_log WHERE action = $1", 1,
                       NULL, &actions[i], NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    bool indexed = false;
    for (int row = 0; row < PQntuples(res); row++) {
      indexed = indexed || strstr(PQgetvalue(res, row, 0), "audit_log_action_idx") != NULL;
    }
    PQclear(res);
    assert_int_equal(indexed, i == 0);
  }
  PQfinish(c);
  free(key_id);
  free(ids[0]);
  free(ids[1]);
  free(body);
}

/* Keys created within one second page in the same order as the full list. */
static void test_pagination_within_a_second(void **state) {
  (void)state;
  struct th_response r;
  for (int i = 0; i < 4; i++) {
    call(admin, "POST", "/api/v1/admin/api-keys", "{\"name\":\"page\"}", &r);
    assert_int_equal(r.status, 201);
    th_response_free(&r);
  }
  call(admin, "GET", "/api/v1/admin/api-keys?limit=4", NULL, &r);
  json_t *full = json_incref(json_object_get(r.json, "data"));
  th_response_free(&r);
  char *after = NULL;
  for (size_t i = 0; i < 4; i++) {
    char *path = after ? h_sprintf("/api/v1/admin/api-keys?limit=1&starting_after=%s", after)
                       : h_strdup("/api/v1/admin/api-keys?limit=1");
    call(admin, "GET", path, NULL, &r);
    const char *id = th_str(json_array_get(json_object_get(r.json, "data"), 0), "id");
    assert_non_null(id);
    assert_string_equal(id, th_str(json_array_get(full, i), "id"));
    free(after);
    after = h_strdup(id);
    th_response_free(&r);
    free(path);
  }
  free(after);
  json_decref(full);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_patch_me),
    cmocka_unit_test(test_field_errors_fail_closed_on_bad_utf8),
    cmocka_unit_test(test_change_password),
    cmocka_unit_test(test_export_and_delete),
    cmocka_unit_test(test_admin_users),
    cmocka_unit_test(test_api_keys),
    cmocka_unit_test(test_audit_log),
    cmocka_unit_test(test_audit_log_by_action),
    cmocka_unit_test(test_pagination_within_a_second),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* harness.c - in-process server and HTTP client for integration tests. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"
#include "store/migrate.h"

void th_start(struct th_server *s) {
  static bool once;
  if (!once) {
    h_alloc_install();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    once = true;
  }
  memset(s, 0, sizeof(*s));
  setenv("HERALD_HTTP_PORT", "0", 1);
  setenv("HERALD_HTTP_BIND", "127.0.0.1", 1);
  setenv("HERALD_HTTP_THREADS", "4", 0);
  /* Every test program signs in and calls from 127.0.0.1 against one Redis: the route-group
   * limits are raised unless a test sets its own (tests/integration/test_ratelimit.c). */
  static const char *const groups[] = {"READ_USER", "READ_IP", "WRITE_USER", "WRITE_IP",
                                       "ADMIN_USER", "ADMIN_IP", "WEBHOOKS_IP", "SERVICE"};
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
    char name[64];
    snprintf(name, sizeof(name), "HERALD_RATE_LIMIT_%s", groups[i]);
    setenv(name, "1000000", 0);
  }
  if (getenv("HERALD_LOG_LEVEL") == NULL) {
    setenv("HERALD_LOG_LEVEL", "warning", 1);
  }
  char *error = NULL;
  if (h_config_load(&s->cfg, &error) != H_OK) {
    fail_msg("configuration: %s", error);
  }
  h_log_init("herald-test", s->cfg.log_level);

  PGconn *conn = th_db_connect();
  assert_int_equal(h_migrate(conn, herald_migrations, NULL), H_OK);
  PQfinish(conn);

  if (h_app_init(&s->app, &s->cfg, "herald-api", &error) != H_OK) {
    fail_msg("h_app_init: %s", error);
  }
  assert_int_equal(h_server_start(&s->app, &s->server), H_OK);
  snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", h_server_port(s->server));
}

void th_stop(struct th_server *s) {
  if (s->server == NULL) { /* setup failed before the server started */
    return;
  }
  h_server_stop(s->server);
  h_app_free(&s->app);
  h_config_free(&s->cfg);
}

struct buf {
  char *data;
  size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct buf *b = userdata;
  size_t n = size * nmemb;
  b->data = h_realloc(b->data, b->len + n + 1);
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

void th_request(const struct th_server *s, const char *method, const char *path,
                const char *const *headers, const char *body, struct th_response *out) {
  memset(out, 0, sizeof(*out));
  CURL *curl = curl_easy_init();
  struct curl_slist *list = NULL;
  bool has_ct = false;
  for (int i = 0; headers != NULL && headers[i] != NULL; i++) {
    list = curl_slist_append(list, headers[i]);
    has_ct |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
  }
  if (body != NULL && !has_ct) {
    list = curl_slist_append(list, "Content-Type: application/json");
  }
  list = curl_slist_append(list, "Expect:");
  char url[1024];
  snprintf(url, sizeof(url), "%s%s", s->base, path);
  struct buf b = {0}, h = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  out->body = b.data != NULL ? b.data : h_strdup("");
  out->body_len = b.len;
  out->headers = h.data != NULL ? h.data : h_strdup("");
  out->json = json_loadb(out->body, out->body_len, 0, NULL);
}

void th_response_free(struct th_response *r) {
  free(r->body);
  free(r->headers);
  json_decref(r->json);
  memset(r, 0, sizeof(*r));
}

const char *th_header(const struct th_response *r, const char *name) {
  static char value[1024];
  size_t n = strlen(name);
  for (const char *line = r->headers; line != NULL && *line != '\0';) {
    const char *end = strstr(line, "\r\n");
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ') {
        v++;
      }
      size_t vlen = len - (size_t)(v - line);
      if (vlen >= sizeof(value)) {
        vlen = sizeof(value) - 1;
      }
      memcpy(value, v, vlen);
      value[vlen] = '\0';
      return value;
    }
    line = end != NULL ? end + 2 : NULL;
  }
  return NULL;
}

static bool subset(const json_t *want, const json_t *got) {
  if (json_is_object(want)) {
    if (!json_is_object(got)) {
      return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)want, key, value) {
      if (!subset(value, json_object_get(got, key))) {
        return false;
      }
    }
    return true;
  }
  return json_equal((json_t *)want, (json_t *)got);
}

void th_assert_json_subset(const char *expected, const json_t *actual) {
  json_error_t err;
  json_t *want = json_loads(expected, 0, &err);
  if (want == NULL) {
    fail_msg("bad expected JSON in test: %s: %s", expected, err.text);
  }
  if (!subset(want, actual)) {
    char *got = actual != NULL ? json_dumps(actual, JSON_INDENT(2)) : h_strdup("(not JSON)");
    char *exp = json_dumps(want, JSON_INDENT(2));
    print_error("expected a superset of:\n%s\ngot:\n%s\n", exp, got);
    free(got);
    free(exp);
    json_decref(want);
    fail();
  }
  json_decref(want);
}

void th_assert_error(const struct th_response *r, long status, const char *code) {
  if (r->status != status) {
    fail_msg("expected status %ld, got %ld: %s", status, r->status, r->body);
  }
  json_t *e = json_object_get(r->json, "error");
  if (!json_is_string(json_object_get(e, "type")) ||
      !json_is_string(json_object_get(e, "message"))) {
    fail_msg("not the error shape: %s", r->body);
  }
  const char *got = json_string_value(json_object_get(e, "code"));
  if (got == NULL || strcmp(got, code) != 0) {
    fail_msg("expected error code %s: %s", code, r->body);
  }
}

PGconn *th_db_connect(void) {
  const char *url = getenv("HERALD_DATABASE_URL");
  if (url == NULL) {
    fail_msg("HERALD_DATABASE_URL is not set: run the tests through `make test`");
  }
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK) {
    fail_msg("cannot connect to %s: %s", url, PQerrorMessage(c));
  }
  PQclear(PQexec(c, "SET client_min_messages = warning"));
  return c;
}

int th_stack(const char *args) {
  const char *script = getenv("HERALD_TEST_STACK_SCRIPT");
  const char *dir = getenv("HERALD_STACK_DIR");
  if (script == NULL || dir == NULL) {
    fail_msg("HERALD_TEST_STACK_SCRIPT/HERALD_STACK_DIR unset: run through `make test`");
  }
  char *cmd = h_sprintf("'%s' %s --dir '%s' >/dev/null 2>&1", script, args, dir);
  int rc = system(cmd);
  free(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

long th_wait_status(const struct th_server *s, const char *path, long want_status,
                    int timeout_s) {
  long last = 0;
  for (int i = 0; i < timeout_s * 10; i++) {
    struct th_response r;
    th_request(s, "GET", path, NULL, NULL, &r);
    last = r.status;
    th_response_free(&r);
    if (last == want_status) {
      break;
    }
    usleep(100 * 1000);
  }
  return last;
}

char *th_unique_email(const char *prefix) {
  char id[37];
  h_uuid_v4(id);
  return h_sprintf("%s-%s@example.com", prefix, id);
}

const char *th_str(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}

char *th_register(const struct th_server *s, const char *email, char user_id[37],
                  char **refresh) {
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  struct th_response r;
  th_request(s, "POST", "/api/v1/auth/register", NULL, body, &r);
  free(body);
  if (r.status != 201) {
    fail_msg("register %s: %ld %s", email, r.status, r.body);
  }
  char *token = h_strdup(th_str(r.json, "access_token"));
  if (user_id != NULL) {
    snprintf(user_id, 37, "%s", th_str(json_object_get(r.json, "user"), "id"));
  }
  if (refresh != NULL) {
    *refresh = h_strdup(th_str(r.json, "refresh_token"));
  }
  th_response_free(&r);
  return token;
}

char *th_admin_token(const struct th_server *s, char user_id[37]) {
  char id[37];
  char *email = th_unique_email("admin");
  free(th_register(s, email, id, NULL));
  PGconn *c = th_db_connect();
  const char *params[] = {id};
  PGresult *res = PQexecParams(c, "UPDATE users SET role = 'admin' WHERE id = $1::uuid", 1, NULL,
                               params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(c);
  char *body = h_sprintf("{\"email\":\"%s\",\"password\":\"" TH_PASSWORD "\"}", email);
  struct th_response r;
  th_request(s, "POST", "/api/v1/auth/login", NULL, body, &r);
  free(body);
  free(email);
  if (r.status != 200) {
    fail_msg("admin login: %ld %s", r.status, r.body);
  }
  char *token = h_strdup(th_str(r.json, "access_token"));
  th_response_free(&r);
  if (user_id != NULL) {
    snprintf(user_id, 37, "%s", id);
  }
  return token;
}

const char *th_bearer(const char *token) {
  static char header[4200];
  snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
  return header;
}

/* Integration: the herald-api binary's commands, exit codes and configuration
 * errors, run as a separate process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"

/* Runs "ENV... herald-api ARGS" through the shell; returns the exit code and the
 * combined output in *out (caller frees). */
static int run(const char *env, const char *args, char **out) {
  char *cmd = h_sprintf("env %s '%s' %s 2>&1", env, HERALD_API_BIN, args);
  FILE *p = popen(cmd, "r");
  free(cmd);
  assert_non_null(p);
  char *text = h_calloc(1, 1);
  size_t len = 0;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    text = h_realloc(text, len + n + 1);
    memcpy(text + len, buf, n);
    len += n;
    text[len] = '\0';
  }
  int rc = pclose(p);
  *out = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void expect_config_error(const char *env, const char *variable) {
  char *out = NULL;
  int rc = run(env, "serve", &out);
  if (rc != 78 || strstr(out, variable) == NULL) {
    fail_msg("%s: expected exit 78 naming %s, got %d: %s", env, variable, rc, out);
  }
  free(out);
}

static void test_bad_values_stop_before_listening(void **state) {
  (void)state;
  expect_config_error("HERALD_HTTP_PORT=abc", "HERALD_HTTP_PORT");
  expect_config_error("HERALD_HTTP_PORT=65536", "HERALD_HTTP_PORT");
  expect_config_error("HERALD_HTTP_THREADS=1", "HERALD_HTTP_THREADS");
  expect_config_error("HERALD_LOG_LEVEL=chatty", "HERALD_LOG_LEVEL");
  expect_config_error("HERALD_HSTS=perhaps", "HERALD_HSTS");
  expect_config_error("HERALD_REDIS_URL=http://nope HERALD_HTTP_PORT=0", "HERALD_REDIS_URL");
  expect_config_error("HERALD_HTTP_BIND=not-an-ip HERALD_HTTP_PORT=0", "HERALD_HTTP_BIND");
}

static void test_usage(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(run("", "frobnicate", &out), 2);
  assert_non_null(strstr(out, "unknown command 'frobnicate'"));
  assert_non_null(strstr(out, "Usage: herald-api"));
  free(out);
  assert_int_equal(run("", "serve extra", &out), 2);
  free(out);
  assert_int_equal(run("", "help", &out), 0);
  assert_non_null(strstr(out, "create-admin"));
  free(out);
  assert_int_equal(run("", "version", &out), 0);
  assert_non_null(strstr(out, "herald-api "));
  free(out);
  assert_int_equal(run("", "config", &out), 0);
  assert_non_null(strstr(out, "`HERALD_HTTP_PORT` | `8080`"));
  free(out);
}

static void test_migrate_command(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(run("", "migrate", &out), 0);
  assert_non_null(strstr(out, "database up to date"));
  free(out);
  assert_int_equal(run("HERALD_DATABASE_URL=postgresql://nobody@127.0.0.1:1/none", "migrate", &out),
                   1);
  assert_non_null(strstr(out, "cannot connect"));
  free(out);
}

static void test_create_admin(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(run("HERALD_ADMIN_EMAIL=", "create-admin", &out), 78);
  assert_non_null(strstr(out, "HERALD_ADMIN_EMAIL"));
  free(out);
  assert_int_equal(run("HERALD_ADMIN_EMAIL=ops@example.com HERALD_ADMIN_PASSWORD=short",
                       "create-admin", &out), 78);
  assert_non_null(strstr(out, "HERALD_ADMIN_PASSWORD"));
  free(out);
  const char *env = "HERALD_ADMIN_EMAIL=Ops.Admin@Example.com "
                    "HERALD_ADMIN_PASSWORD=a-long-enough-password";
  assert_int_equal(run("", "migrate", &out), 0);
  free(out);
  assert_int_equal(run(env, "create-admin", &out), 0);
  free(out);
  assert_int_equal(run("HERALD_ADMIN_EMAIL=ops.admin@example.com "
                       "HERALD_ADMIN_PASSWORD=another-long-password", "create-admin", &out), 0);
  assert_non_null(strstr(out, "admin updated"));
  assert_null(strstr(out, "another-long-password")); /* secrets never printed */
  free(out);
  PGconn *c = th_db_connect();
  PGresult *res = PQexec(c, "SELECT role, status, count(*) OVER () FROM users "
                            "WHERE lower(email) = 'ops.admin@example.com'");
  assert_int_equal(PQntuples(res), 1);
  assert_string_equal(PQgetvalue(res, 0, 0), "admin");
  assert_string_equal(PQgetvalue(res, 0, 1), "active");
  PQclear(res);
  PQfinish(c);
}

/* One value of the first row of sql (run on a fresh connection), copied into out. */
static void query_value(const char *sql, char *out, size_t outlen) {
  PGconn *c = th_db_connect();
  PGresult *res = PQexec(c, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(c);
}

/* An account someone registered first with the admin's e-mail is never promoted
 * silently: refused, then taken over only on request, its sessions revoked. */
static void test_create_admin_refuses_existing_account(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(run("", "migrate", &out), 0);
  free(out);
  PGconn *c = th_db_connect();
  PGresult *res = PQexec(c, "WITH u AS (INSERT INTO users (email, password_hash, role, name)"
                            " VALUES ('squatter@example.com', 'attacker-hash', 'user', 'Eve')"
                            " RETURNING id)"
                            " INSERT INTO refresh_tokens (user_id, family_id, token_hash,"
                            " expires_at) SELECT id, gen_random_uuid(), 'squatter-refresh',"
                            " now() + interval '30 days' FROM u");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(c);
  const char *env = "HERALD_ADMIN_EMAIL=Squatter@Example.com "
                    "HERALD_ADMIN_PASSWORD=the-real-admin-password";
  assert_int_equal(run(env, "create-admin", &out), 1);
  assert_non_null(strstr(out, "not an admin"));
  assert_non_null(strstr(out, "--take-over"));
  free(out);
  char v[128];
  query_value("SELECT role || ',' || password_hash || ',' || (revoked_at IS NULL)"
              " FROM users u JOIN refresh_tokens t ON t.user_id = u.id"
              " WHERE u.email = 'squatter@example.com'", v, sizeof(v));
  assert_string_equal(v, "user,attacker-hash,true");

  assert_int_equal(run(env, "create-admin --bogus", &out), 2);
  free(out);
  assert_int_equal(run(env, "create-admin --take-over", &out), 0);
  assert_non_null(strstr(out, "taken over"));
  free(out);
  query_value("SELECT role || ',' || (password_hash <> 'attacker-hash') || ','"
              " || (revoked_at IS NOT NULL) || ',' || (email_verified_at IS NOT NULL)"
              " FROM users u JOIN refresh_tokens t ON t.user_id = u.id"
              " WHERE u.email = 'squatter@example.com'", v, sizeof(v));
  assert_string_equal(v, "admin,true,true,true");
}

/* serve answers, and SIGTERM stops it with exit code 0. */
static void test_serve_and_sigterm(void **state) {
  (void)state;
  int port = th_free_port();
  const char *env[] = {"HERALD_LOG_LEVEL=error", NULL};
  pid_t pid = th_api_spawn(HERALD_API_BIN, port, env, NULL);
  struct th_server client = {0};
  snprintf(client.base, sizeof(client.base), "http://127.0.0.1:%d", port);
  long status = 0;
  for (int i = 0; i < 100 && status != 200; i++) {
    usleep(100 * 1000);
    char *out = NULL;
    char *cmd = h_sprintf("curl -s -o /dev/null -w '%%{http_code}' %s/healthz", client.base);
    FILE *p = popen(cmd, "r");
    char buf[8] = {0};
    if (fread(buf, 1, 3, p) > 0) {
      status = atol(buf);
    }
    pclose(p);
    free(cmd);
    free(out);
  }
  assert_int_equal(status, 200);
  assert_int_equal(kill(pid, SIGTERM), 0);
  int wstatus = 0;
  assert_int_equal(waitpid(pid, &wstatus, 0), pid);
  assert_true(WIFEXITED(wstatus));
  assert_int_equal(WEXITSTATUS(wstatus), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bad_values_stop_before_listening),
    cmocka_unit_test(test_usage),
    cmocka_unit_test(test_migrate_command),
    cmocka_unit_test(test_create_admin),
    cmocka_unit_test(test_create_admin_refuses_existing_account),
    cmocka_unit_test(test_serve_and_sigterm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

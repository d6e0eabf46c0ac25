/* Integration: GET /api/v1/users/me from the API process's copy of the profile
 * (common/users/profile_cache.h). Two API processes on one database, copies kept for ten
 * minutes, so a change only shows through the notice of migration 0093's trigger (or the
 * writer dropping its own copy); an update made with triggers off shows that the copy is
 * really served; the listener's connection killed drops every copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static struct th_server a, b; /* a: writes; b: only reads */

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Waits until n processes LISTEN on connections opened after since (a PostgreSQL
 * timestamp), then a little longer for them to switch their copies on. */
static void wait_listening(const char *since, long n) {
  long listening = 0;
  for (int waited = 0; waited < 5000 && listening < n; waited += 20) {
    listening = th_sql_long("SELECT count(*) FROM pg_stat_activity"
                            " WHERE application_name = 'herald-api-listen' AND state = 'idle'"
                            " AND backend_start > $1::timestamptz", since);
    sleep_ms(20);
  }
  assert_true(listening >= n);
  sleep_ms(100);
}

static int setup(void **state) {
  (void)state;
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_USER_CACHE_MS", "600000", 1);
  setenv("HERALD_TOKEN_EPOCH_CACHE_MS", "60000", 1);
  setenv("HERALD_JWT_SECRET", "profile-cache-test-secret-0123456789abcdef", 1);
  char *since = th_sql_text("SELECT now()::text", NULL);
  th_start(&a);
  th_start(&b);
  wait_listening(since, 2);
  free(since);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&b);
  th_stop(&a);
  return 0;
}

/* GET /users/me on s: the status, and *name its "name" (caller frees; NULL when absent). */
static long me(const struct th_server *s, const char *token, char **name) {
  const char *h[] = {th_bearer(token), NULL};
  struct th_response r;
  th_request(s, "GET", "/api/v1/users/me", h, NULL, &r);
  long status = r.status;
  if (name != NULL) {
    const char *n = r.json != NULL ? th_str(r.json, "name") : NULL;
    *name = n != NULL ? strdup(n) : NULL;
  }
  th_response_free(&r);
  return status;
}

/* Milliseconds until GET /users/me on s names want (up to 5 s), or -1. */
static long wait_name(const struct th_server *s, const char *token, const char *want) {
  for (long waited = 0; waited <= 5000; waited += 10) {
    char *name = NULL;
    assert_int_equal(me(s, token, &name), 200);
    bool same = name != NULL && strcmp(name, want) == 0;
    free(name);
    if (same) {
      return waited;
    }
    sleep_ms(10);
  }
  return -1;
}

/* Sets the user's name in PostgreSQL with triggers off for that transaction (no notice); one
 * simple query, so it stays on one server connection behind a transaction pooler too. */
static void rename_quietly(const char *user_id, const char *name) {
  PGconn *c = PQconnectdb(getenv("HERALD_DATABASE_URL"));
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  char *id_lit = PQescapeLiteral(c, user_id, strlen(user_id));
  char *name_lit = PQescapeLiteral(c, name, strlen(name));
  char sql[512];
  snprintf(sql, sizeof(sql),
           "BEGIN; SET LOCAL session_replication_role = replica;"
           " UPDATE users SET name = %s WHERE id = %s::uuid; COMMIT", name_lit, id_lit);
  PQfreemem(id_lit);
  PQfreemem(name_lit);
  PGresult *res = PQexec(c, sql);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(c);
  char *now = th_sql_text("SELECT name FROM users WHERE id = $1::uuid", user_id);
  assert_string_equal(now, name);
  free(now);
}

/* A copy of the environment variable name (NULL when unset); put_env sets it back. */
static char *saved_env(const char *name) {
  return getenv(name) != NULL ? strdup(getenv(name)) : NULL;
}

static void put_env(const char *name, char *value) {
  if (value != NULL) {
    setenv(name, value, 1);
  } else {
    unsetenv(name);
  }
  free(value);
}

static char *user(const char *prefix, char id[37]) {
  char *email = th_unique_email(prefix);
  char *token = th_register(&a, email, id, NULL);
  free(email);
  return token;
}

/* The body comes from the copy: a change made without a notice is not seen, one with a
 * notice is, on both processes; the writer's own process sees its change at once. */
static void test_copy_served_and_dropped(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache", id);
  char *name = NULL;
  assert_int_equal(me(&b, token, &name), 200); /* b keeps a copy */
  assert_null(name);
  assert_int_equal(me(&a, token, NULL), 200);  /* so does a */
  rename_quietly(id, "Quiet Change");
  long hits = th_metric(&b, "herald_user_cache_lookups_total{result=\"hit\"}");
  long drops = th_metric(&b, "herald_user_cache_drops_total");
  assert_int_equal(th_metric(&b, "herald_user_cache_online"), 1);
  assert_int_equal(me(&b, token, &name), 200);
  assert_null(name); /* served from the copy: PostgreSQL was not read */
  assert_int_equal(th_metric(&b, "herald_user_cache_lookups_total{result=\"hit\"}"), hits + 1);

  const char *h[] = {th_bearer(token), NULL};
  struct th_response r;
  th_request(&a, "PATCH", "/api/v1/users/me", h, "{\"name\":\"Ada Lovelace\"}", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "name"), "Ada Lovelace");
  th_response_free(&r);
  assert_int_equal(me(&a, token, &name), 200); /* at once on the writer's process */
  assert_string_equal(name, "Ada Lovelace");
  free(name);
  long ms = wait_name(&b, token, "Ada Lovelace");
  assert_true(ms >= 0); /* b's copy (kept for ten minutes) dropped by the notice */
  assert_true(th_metric(&b, "herald_user_cache_drops_total") > drops);
  free(token);
}

/* A change by any writer (here SQL by hand, triggers on) reaches every process's copy; the
 * body read afterwards is PostgreSQL's whole row, as without the copy. */
static void test_sql_change_reaches_copies(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-sql", id);
  assert_int_equal(me(&a, token, NULL), 200);
  assert_int_equal(me(&b, token, NULL), 200);
  char *n = th_sql_text("UPDATE users SET name = 'Grace', locale = 'fr', updated_at = now()"
                        " WHERE id = $1::uuid RETURNING name", id);
  assert_string_equal(n, "Grace");
  free(n);
  assert_true(wait_name(&a, token, "Grace") >= 0);
  assert_true(wait_name(&b, token, "Grace") >= 0);
  const char *h[] = {th_bearer(token), NULL};
  struct th_response r;
  th_request(&b, "GET", "/api/v1/users/me", h, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(th_str(r.json, "locale"), "fr");
  assert_string_equal(th_str(r.json, "id"), id);
  assert_string_equal(th_str(r.json, "object"), "user");
  assert_non_null(strstr(th_header(&r, "Content-Type"), "application/json"));
  th_response_free(&r);
  free(token);
}

/* Sends method path on a with token (200 or 204), then waits (up to 5 s) for b to refuse
 * the token: b's copy of the epoch, kept for a minute, dropped by the notice. */
static void ended_on_b(const char *token, const char *method, const char *path) {
  assert_int_equal(me(&b, token, NULL), 200); /* b holds the epoch and the profile */
  const char *h[] = {th_bearer(token), NULL};
  struct th_response r;
  th_request(&a, method, path, h, NULL, &r);
  assert_true(r.status == 200 || r.status == 204);
  th_response_free(&r);
  long status = 200;
  for (int waited = 0; waited < 5000 && status == 200; waited += 10) {
    status = me(&b, token, NULL);
    if (status == 200) {
      sleep_ms(10);
    }
  }
  assert_int_equal(status, 401);
}

/* Access tokens end on every process when the epoch rises, not after the epoch's ttl (60 s
 * here): b drops its copy of the epoch on the notice. */
static void test_sign_out_everywhere_reaches_other_process(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-epoch", id);
  ended_on_b(token, "DELETE", "/api/v1/users/me/sessions");
  free(token);
}

/* Notices sent while the listener is away are lost: its connection killed, every copy is
 * dropped (a change made without a notice shows), and it listens again. */
static void test_listener_lost_drops_copies(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-lost", id);
  assert_int_equal(me(&b, token, NULL), 200);
  char *since = th_sql_text("SELECT now()::text", NULL);
  long killed = th_sql_long("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = $1", "herald-api-listen");
  assert_true(killed >= 2); /* a's and b's */
  rename_quietly(id, "After The Loss");
  assert_true(wait_name(&b, token, "After The Loss") >= 0);
  wait_listening(since, 2);
  free(since);
  /* listening again: copies are kept and dropped by notices as before */
  assert_int_equal(me(&b, token, NULL), 200);
  rename_quietly(id, "Quiet Again");
  char *name = NULL;
  assert_int_equal(me(&b, token, &name), 200);
  assert_string_equal(name, "After The Loss");
  free(name);
  char *n = th_sql_text("UPDATE users SET name = 'Loud' WHERE id = $1::uuid RETURNING name", id);
  free(n);
  assert_true(wait_name(&b, token, "Loud") >= 0);
  free(token);
}

/* A deleted account answers 401 on every process, its copies notwithstanding. */
static void test_deleted_account_not_served(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-del", id);
  ended_on_b(token, "DELETE", "/api/v1/users/me");
  free(token);
}

/* Behind a transaction pooler (HERALD_DB_PREPARED_STATEMENTS=false) without
 * HERALD_DATABASE_LISTEN_URL a LISTEN cannot be trusted: no copy is kept, every GET reads
 * PostgreSQL; with the URL given, copies are kept again. */
static void test_pooler_without_listen_url_keeps_nothing(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-pooler", id);
  char *listen_url = saved_env("HERALD_DATABASE_LISTEN_URL");
  char *prepared = saved_env("HERALD_DB_PREPARED_STATEMENTS");
  unsetenv("HERALD_DATABASE_LISTEN_URL");
  setenv("HERALD_DB_PREPARED_STATEMENTS", "false", 1);
  struct th_server c;
  th_start(&c);
  assert_int_equal(me(&c, token, NULL), 200);
  rename_quietly(id, "Read Through");
  char *name = NULL;
  assert_int_equal(me(&c, token, &name), 200);
  assert_string_equal(name, "Read Through");
  free(name);
  th_stop(&c);

  char *since = th_sql_text("SELECT now()::text", NULL);
  /* (the test stack's URL is PostgreSQL itself, or the pooler test's listen URL) */
  setenv("HERALD_DATABASE_LISTEN_URL",
         listen_url != NULL ? listen_url : getenv("HERALD_DATABASE_URL"), 1);
  th_start(&c);
  wait_listening(since, 1);
  free(since);
  assert_int_equal(me(&c, token, NULL), 200);
  rename_quietly(id, "Kept Copy");
  assert_int_equal(me(&c, token, &name), 200);
  assert_string_equal(name, "Read Through"); /* served from the copy */
  free(name);
  th_stop(&c);
  put_env("HERALD_DATABASE_LISTEN_URL", listen_url);
  put_env("HERALD_DB_PREPARED_STATEMENTS", prepared);
  free(token);
}

/* A listen URL where nothing answers: the API serves every request from PostgreSQL and
 * says on /metrics that no copy is kept. */
static void test_unreachable_listen_url_reads_through(void **state) {
  (void)state;
  char id[37];
  char *token = user("pcache-nolisten", id);
  char *listen_url = saved_env("HERALD_DATABASE_LISTEN_URL");
  setenv("HERALD_DATABASE_LISTEN_URL", "postgresql://herald@127.0.0.1:1/herald", 1);
  struct th_server c;
  th_start(&c);
  assert_int_equal(me(&c, token, NULL), 200);
  rename_quietly(id, "No Listener");
  char *name = NULL;
  assert_int_equal(me(&c, token, &name), 200);
  assert_string_equal(name, "No Listener");
  free(name);
  assert_int_equal(th_metric(&c, "herald_user_cache_online"), 0);
  assert_true(th_metric(&c, "herald_user_cache_lookups_total{result=\"miss\"}") >= 2);
  assert_int_equal(th_metric(&c, "herald_user_cache_lookups_total{result=\"hit\"}"), 0);
  th_stop(&c);
  put_env("HERALD_DATABASE_LISTEN_URL", listen_url);
  free(token);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_copy_served_and_dropped),
    cmocka_unit_test(test_sql_change_reaches_copies),
    cmocka_unit_test(test_sign_out_everywhere_reaches_other_process),
    cmocka_unit_test(test_listener_lost_drops_copies),
    cmocka_unit_test(test_deleted_account_not_served),
    cmocka_unit_test(test_pooler_without_listen_url_keeps_nothing),
    cmocka_unit_test(test_unreachable_listen_url_reads_through),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

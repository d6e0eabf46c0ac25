/* The statement cache behind h_db_exec (common/store/db_stmt.h) against the real
 * PostgreSQL: one preparation per distinct statement, results identical to the
 * unprepared path, custom plans (a generic one when asked: for that statement only), and
 * recovery when the server forgets or a table changes under a prepared statement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/db_stmt.h"
#include "store/pg_array.h"
#include "harness.h"

static PGconn *connect_with(bool prepared) {
  struct h_db_options o = {
    .url = getenv("HERALD_DATABASE_URL"),
    .connect_timeout_s = 3,
    .statement_timeout_ms = 5000,
    .application_name = "herald-test-stmt",
    .prepared_statements = prepared,
  };
  PGconn *c = NULL;
  assert_int_equal(h_db_connect(&o, &c), H_OK);
  return c;
}

static char *scalar(PGconn *c, const char *sql, int n, const char *const *params) {
  PGresult *res = NULL;
  assert_int_equal(h_db_exec(c, sql, n, params, &res), H_OK);
  char *v = strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  return v;
}

static void test_one_preparation_per_statement(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  assert_true(h_db_stmt_enabled(c));
  char *mode = scalar(c, "SELECT current_setting('plan_cache_mode')", 0, NULL);
  assert_string_equal(mode, "force_custom_plan");
  free(mode);
  for (int i = 0; i < 5; i++) {
    const char *p[] = {i % 2 ? "41" : "1"};
    char *v = scalar(c, "SELECT $1::int + 1", 1, p);
    assert_string_equal(v, i % 2 ? "42" : "2");
    free(v);
  }
  assert_int_equal(h_db_stmt_count(c), 2); /* plan_cache_mode's and this one */
  /* transaction control and NULL parameters */
  assert_int_equal(h_db_begin(c), H_OK);
  const char *null[] = {NULL};
  char *v = scalar(c, "SELECT coalesce($1::text, 'none')", 1, null);
  assert_string_equal(v, "none");
  free(v);
  assert_int_equal(h_db_commit(c), H_OK);
  assert_int_equal(h_db_stmt_count(c), 3); /* BEGIN and COMMIT are not kept */
  /* a statement's own error comes back as before and is not kept */
  PGresult *res = NULL;
  assert_int_equal(h_db_exec(c, "SELECT no_such_column FROM users", 0, NULL, &res),
                   H_ERR_INTERNAL);
  assert_null(res);
  const char *bad[] = {"not-a-number"};
  assert_int_equal(h_db_exec(c, "SELECT $1::int + 1", 1, bad, &res), H_ERR_INVALID);
  assert_int_equal(h_db_stmt_count(c), 3);
  PQfinish(c);
}

/* Long statements are told apart by their whole text: two of the same length and the same
 * first and last 64 bytes (all the slot's hash reads) are two entries, each answering its
 * own result, however often they alternate. */
static void test_long_statements_alike_at_both_ends(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  char pad[81];
  memset(pad, 'p', 80);
  pad[80] = '\0';
  char a[256], b[256];
  snprintf(a, sizeof(a), "SELECT right($1::text || '%sA%s', 81) AS v", pad, pad);
  snprintf(b, sizeof(b), "SELECT right($1::text || '%sB%s', 81) AS v", pad, pad);
  assert_int_equal(strlen(a), strlen(b));
  assert_memory_equal(a, b, 64);
  assert_string_equal(a + strlen(a) - 64, b + strlen(b) - 64);
  int before = h_db_stmt_count(c);
  for (int i = 0; i < 6; i++) {
    const char *p[] = {"x"};
    char *v = scalar(c, i % 2 ? b : a, 1, p);
    assert_int_equal(v[0], i % 2 ? 'B' : 'A');
    free(v);
  }
  assert_int_equal(h_db_stmt_count(c), before + 2);
  PQfinish(c);
}

static void test_unprepared_when_off(void **state) {
  (void)state;
  PGconn *c = connect_with(false);
  assert_false(h_db_stmt_enabled(c));
  char *mode = scalar(c, "SELECT current_setting('plan_cache_mode')", 0, NULL);
  assert_string_equal(mode, "auto");
  free(mode);
  assert_int_equal(h_db_stmt_count(c), 0);
  char *n = scalar(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
  assert_string_equal(n, "0");
  free(n);
  PQfinish(c);
}

/* generic_plans and custom_plans of sql's prepared statement on c: "g c". */
static char *plan_counts(PGconn *c, const char *sql) {
  char name[H_DB_STMT_NAME_LEN];
  h_db_stmt_name(sql, name);
  const char *p[] = {name};
  return scalar(c, "SELECT generic_plans || ' ' || custom_plans FROM pg_prepared_statements"
                   " WHERE name = $1", 1, p);
}

static void test_generic_plan_and_nothing_after(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  const char *sql = "SELECT $1::int * 2, $2::text IS NULL";
  for (int i = 0; i < 2; i++) {
    const char *p[] = {"21", NULL};
    PGresult *res = NULL;
    assert_int_equal(h_db_exec_generic(c, sql, 2, p, &res), H_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "42");
    assert_string_equal(PQgetvalue(res, 0, 1), "t");
    PQclear(res);
  }
  char *counts = plan_counts(c, sql);
  assert_string_equal(counts, "2 0"); /* the generic plan both times, no custom one */
  free(counts);
  /* a value needing quotes is a value, not SQL: the error is the cast's */
  const char *quote[] = {"2'; SELECT 1; --", NULL};
  PGresult *res = NULL;
  assert_int_equal(h_db_exec_generic(c, sql, 2, quote, &res), H_ERR_INVALID);
  assert_null(res);
  /* the setting lasted for its statement only, also after the failed one */
  assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
  char *mode = scalar(c, "SELECT current_setting('plan_cache_mode')", 0, NULL);
  assert_string_equal(mode, "force_custom_plan");
  free(mode);
  /* inside a transaction it runs as h_db_exec: nothing set for the statements after it */
  assert_int_equal(h_db_begin(c), H_OK);
  const char *p[] = {"1", "x"};
  assert_int_equal(h_db_exec_generic(c, sql, 2, p, &res), H_OK);
  assert_string_equal(PQgetvalue(res, 0, 0), "2");
  PQclear(res);
  mode = scalar(c, "SELECT current_setting('plan_cache_mode')", 0, NULL);
  assert_string_equal(mode, "force_custom_plan");
  free(mode);
  assert_int_equal(h_db_commit(c), H_OK);
  counts = plan_counts(c, sql);
  assert_string_equal(counts, "2 1");
  free(counts);
  PQfinish(c);
}

static void test_generic_without_cache(void **state) {
  (void)state;
  PGconn *c = connect_with(false);
  const char *p[] = {"4"};
  PGresult *res = NULL;
  assert_int_equal(h_db_exec_generic(c, "SELECT $1::int + 1", 1, p, &res), H_OK);
  assert_string_equal(PQgetvalue(res, 0, 0), "5");
  PQclear(res);
  char *n = scalar(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
  assert_string_equal(n, "0");
  free(n);
  PQfinish(c);
}

/* A session that forgot the prepared names (DISCARD ALL, DEALLOCATE, a pooler's new server
 * session): the answer is still right, prepared again and planned per run that once, and the
 * next run has its generic plan again. */
static void test_generic_falls_back_when_names_are_gone(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  const char *sql = "SELECT $1::int * 3";
  const char *p[] = {"14"};
  PGresult *res = NULL;
  assert_int_equal(h_db_exec_generic(c, sql, 1, p, &res), H_OK);
  PQclear(res);
  assert_int_equal(h_db_exec(c, "DEALLOCATE ALL", 0, NULL, &res), H_OK);
  PQclear(res);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(h_db_exec_generic(c, sql, 1, p, &res), H_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "42");
    PQclear(res);
    char *counts = plan_counts(c, sql);
    assert_string_equal(counts, i == 0 ? "0 1" : "1 1");
    free(counts);
  }
  assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
  char *mode = scalar(c, "SELECT current_setting('plan_cache_mode')", 0, NULL);
  assert_string_equal(mode, "force_custom_plan");
  free(mode);
  PQfinish(c);
}

/* The server ends the session under a generic run: an error, not a hang, the connection left
 * out of pipeline mode, and the same connection works again once reset. */
static void test_generic_when_the_session_ends(void **state) {
  (void)state;
  PGconn *c = connect_with(true), *killer = connect_with(false);
  const char *sql = "SELECT $1::int * 5";
  const char *p[] = {"7"};
  PGresult *res = NULL;
  char pid[16];
  snprintf(pid, sizeof(pid), "%d", PQbackendPID(c));
  const char *kp[] = {pid};
  assert_int_equal(h_db_exec_generic(c, "SELECT $1::int + 1", 1, p, &res), H_OK);
  PQclear(res);
  assert_int_equal(h_db_exec(killer, "SELECT pg_terminate_backend($1::int)", 1, kp, &res), H_OK);
  PQclear(res);
  assert_int_not_equal(h_db_exec_generic(c, sql, 1, p, &res), H_OK);
  assert_null(res);
  assert_int_equal(PQpipelineStatus(c), PQ_PIPELINE_OFF);
  PQreset(c);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  assert_int_equal(h_db_exec_generic(c, "SELECT $1::int + 1", 1, p, &res), H_OK);
  assert_string_equal(PQgetvalue(res, 0, 0), "8");
  PQclear(res);
  PQfinish(killer);
  PQfinish(c);
}

static void test_recovers_when_the_server_forgets(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  const char *p[] = {"7"};
  char *v = scalar(c, "SELECT $1::int * 6", 1, p);
  free(v);
  PGresult *res = NULL;
  assert_int_equal(h_db_exec(c, "DEALLOCATE ALL", 0, NULL, &res), H_OK);
  PQclear(res);
  v = scalar(c, "SELECT $1::int * 6", 1, p); /* unknown name: run plainly, cache dropped */
  assert_string_equal(v, "42");
  free(v);
  v = scalar(c, "SELECT $1::int * 6", 1, p); /* and prepared again */
  assert_string_equal(v, "42");
  free(v);
  char *n = scalar(c, "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE"
                      " 'SELECT $1::int * 6%'", 0, NULL);
  assert_string_equal(n, "1");
  free(n);
  PQfinish(c);
}

static void test_table_changed_under_a_statement(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  PGresult *res = NULL;
  assert_int_equal(h_db_exec(c, "CREATE TEMP TABLE stmt_t (a int)", 0, NULL, &res), H_OK);
  PQclear(res);
  assert_int_equal(h_db_exec(c, "INSERT INTO stmt_t VALUES (1)", 0, NULL, &res), H_OK);
  PQclear(res);
  assert_int_equal(h_db_exec(c, "SELECT * FROM stmt_t", 0, NULL, &res), H_OK);
  assert_int_equal(PQnfields(res), 1);
  PQclear(res);
  assert_int_equal(h_db_exec(c, "ALTER TABLE stmt_t ADD COLUMN b int DEFAULT 2", 0, NULL, &res),
                   H_OK);
  PQclear(res);
  /* outside a transaction: answered at once with the new shape */
  assert_int_equal(h_db_exec(c, "SELECT * FROM stmt_t", 0, NULL, &res), H_OK);
  assert_int_equal(PQnfields(res), 2);
  PQclear(res);
  assert_int_equal(h_db_exec(c, "ALTER TABLE stmt_t ADD COLUMN c int DEFAULT 3", 0, NULL, &res),
                   H_OK);
  PQclear(res);
  /* inside one: the new shape, or (a server that refuses the changed plan) an error that
   * costs that transaction only, as any error does; the next statement has the new shape */
  assert_int_equal(h_db_begin(c), H_OK);
  if (h_db_exec(c, "SELECT * FROM stmt_t", 0, NULL, &res) == H_OK) {
    assert_int_equal(PQnfields(res), 3);
    PQclear(res);
  }
  h_db_rollback(c);
  assert_int_equal(h_db_exec(c, "SELECT * FROM stmt_t", 0, NULL, &res), H_OK);
  assert_int_equal(PQnfields(res), 3);
  assert_string_equal(PQgetvalue(res, 0, 2), "3");
  PQclear(res);
  PQfinish(c);
}

/* Names follow the statement's text, so sessions a pooler hands between clients agree on
 * what each name means: a name already there (another client prepared the same text) is
 * used, and no two texts share a name. */
static void test_names_follow_the_text(void **state) {
  (void)state;
  char a[H_DB_STMT_NAME_LEN], b[H_DB_STMT_NAME_LEN], again[H_DB_STMT_NAME_LEN];
  h_db_stmt_name("SELECT $1::int + 1", a);
  h_db_stmt_name("SELECT $1::int + 2", b);
  h_db_stmt_name("SELECT $1::int + 1", again);
  assert_string_equal(a, again);
  assert_string_not_equal(a, b);
  assert_int_equal(strlen(a), H_DB_STMT_NAME_LEN - 1);
  PGconn *c = connect_with(true);
  /* the same text prepared under its name first, as another client of a pooled session
   * would have left it */
  char name[H_DB_STMT_NAME_LEN];
  h_db_stmt_name("SELECT $1::int * 10", name);
  PGresult *pre = PQprepare(c, name, "SELECT $1::int * 10", 1, NULL);
  assert_int_equal(PQresultStatus(pre), PGRES_COMMAND_OK);
  PQclear(pre);
  const char *p[] = {"7"};
  char *v = scalar(c, "SELECT $1::int * 10", 1, p);
  assert_string_equal(v, "70");
  free(v);
  const char *q[] = {name};
  v = scalar(c, "SELECT count(*)::text FROM pg_prepared_statements WHERE name = $1", 1, q);
  assert_string_equal(v, "1");
  free(v);
  PQfinish(c);
}

static void test_reset_connection_starts_empty(void **state) {
  (void)state;
  PGconn *c = connect_with(true);
  const char *p[] = {"1"};
  free(scalar(c, "SELECT $1::int", 1, p));
  assert_true(h_db_stmt_count(c) >= 1);
  PQreset(c);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  assert_int_equal(h_db_stmt_count(c), 0);
  char *v = scalar(c, "SELECT $1::int", 1, p);
  assert_string_equal(v, "1");
  free(v);
  PQfinish(c);
}

/* Binary arrays (store/pg_array.h) read by the server as the literals are: each element
 * type, NULLs, empty arrays, text that would need escaping in a literal, prepared and not. */
static void test_binary_arrays_round_trip(void **state) {
  (void)state;
  for (int prepared = 0; prepared <= 1; prepared++) {
    PGconn *c = connect_with(prepared == 1);
    struct h_pg_array a[7] = {{.oid = H_PG_OID_UUID}, {.oid = H_PG_OID_TEXT},
                              {.oid = H_PG_OID_JSONB}, {.oid = H_PG_OID_BOOL},
                              {.oid = H_PG_OID_INT4}, {.oid = H_PG_OID_TEXT}, {0}};
    h_pg_array_add(&a[0], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    h_pg_array_add(&a[0], NULL);
    h_pg_array_add(&a[1], "a \"quote\", a \\ and {braces} \xc3\xa9");
    h_pg_array_add(&a[1], NULL);
    h_pg_array_add(&a[2], "{\"k\": [1, \"two\"]}");
    h_pg_array_add_bool(&a[3], 1);
    h_pg_array_add_bool(&a[3], 0);
    h_pg_array_add_long(&a[4], -2147483647L - 1);
    h_pg_array_add(&a[6], "2026-12-04T10:00:00Z"); /* a text literal beside them */
    const char *params[7];
    int lengths[7], formats[7];
    assert_true(h_pg_array_params(a, 7, params, lengths, formats));
    assert_int_equal(formats[0], 1);
    assert_int_equal(formats[6], 0); /* the literal stays text */
    PGresult *res = NULL;
    assert_int_equal(
        h_db_exec_formats(c,
                          "SELECT $1::uuid[]::text, $2::text[]::text, $3::jsonb[]::text,"
                          " $4::bool[]::text, $5::int[]::text, cardinality($6::text[]),"
                          " (SELECT t.u FROM unnest($1::uuid[], $2::text[]) AS t(u, s)"
                          "  WHERE t.s LIKE '%quote%')::text, $7::timestamptz[] IS NOT NULL",
                          7, params, lengths, formats, &res),
        H_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "{0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b,NULL}");
    assert_string_equal(PQgetvalue(res, 0, 1),
                        "{\"a \\\"quote\\\", a \\\\ and {braces} \xc3\xa9\",NULL}");
    assert_string_equal(PQgetvalue(res, 0, 2), "{\"{\\\"k\\\": [1, \\\"two\\\"]}\"}");
    assert_string_equal(PQgetvalue(res, 0, 3), "{t,f}");
    assert_string_equal(PQgetvalue(res, 0, 4), "{-2147483648}");
    assert_string_equal(PQgetvalue(res, 0, 5), "0");
    assert_string_equal(PQgetvalue(res, 0, 6), "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    assert_string_equal(PQgetvalue(res, 0, 7), "t");
    PQclear(res);
    /* the element type is checked by the server: a text array where uuid[] is expected */
    assert_int_equal(h_db_exec_formats(c, "SELECT cardinality($1::uuid[])", 1, &params[1],
                                       &lengths[1], &formats[1], &res),
                     H_ERR_INTERNAL);
    assert_null(res);
    for (int i = 0; i < 7; i++) {
      h_pg_array_free(&a[i]);
    }
    PQfinish(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_one_preparation_per_statement),
    cmocka_unit_test(test_long_statements_alike_at_both_ends),
    cmocka_unit_test(test_unprepared_when_off),
    cmocka_unit_test(test_generic_plan_and_nothing_after),
    cmocka_unit_test(test_generic_without_cache),
    cmocka_unit_test(test_generic_falls_back_when_names_are_gone),
    cmocka_unit_test(test_generic_when_the_session_ends),
    cmocka_unit_test(test_recovers_when_the_server_forgets),
    cmocka_unit_test(test_table_changed_under_a_statement),
    cmocka_unit_test(test_names_follow_the_text),
    cmocka_unit_test(test_reset_connection_starts_empty),
    cmocka_unit_test(test_binary_arrays_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Integration: migrations apply once, record themselves, and are safe to run twice
 * and from two connections at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "harness.h"
#include "store/migrate.h"

static int count_migrations(PGconn *c) {
  PGresult *res = PQexec(c, "SELECT count(*) FROM schema_migrations");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  int n = atoi(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

static int embedded_count(void) {
  int n = 0;
  for (const struct herald_embedded *m = herald_migrations; m->name != NULL; m++) {
    n++;
  }
  return n;
}

static void test_twice_changes_nothing(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  int applied = -1;
  assert_int_equal(h_migrate(c, herald_migrations, &applied), H_OK);
  int before = count_migrations(c);
  assert_int_equal(before, embedded_count());
  assert_int_equal(h_migrate(c, herald_migrations, &applied), H_OK);
  assert_int_equal(applied, 0);
  assert_int_equal(count_migrations(c), before);
  PQfinish(c);
}

static void *migrate_thread(void *arg) {
  PGconn *c = th_db_connect();
  *(h_result *)arg = h_migrate(c, herald_migrations, NULL);
  PQfinish(c);
  return NULL;
}

/* A fresh schema migrated by two sessions at once: both succeed, each file once. */
static void test_concurrent_runs(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  PQclear(PQexec(c, "DROP SCHEMA IF EXISTS migrate_race CASCADE"));
  PGresult *res = PQexec(c, "CREATE SCHEMA migrate_race");
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  char *url = h_sprintf("%s%soptions=-csearch_path%%3Dmigrate_race", getenv("HERALD_DATABASE_URL"),
                        strchr(getenv("HERALD_DATABASE_URL"), '?') ? "&" : "?");
  char *saved = h_strdup(getenv("HERALD_DATABASE_URL"));
  setenv("HERALD_DATABASE_URL", url, 1);
  pthread_t a, b;
  h_result ra = H_ERR_INTERNAL, rb = H_ERR_INTERNAL;
  pthread_create(&a, NULL, migrate_thread, &ra);
  pthread_create(&b, NULL, migrate_thread, &rb);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  setenv("HERALD_DATABASE_URL", saved, 1);
  assert_int_equal(ra, H_OK);
  assert_int_equal(rb, H_OK);
  res = PQexec(c, "SELECT count(*) FROM migrate_race.schema_migrations");
  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  assert_int_equal(atoi(PQgetvalue(res, 0, 0)), embedded_count());
  PQclear(res);
  res = PQexec(c, "SELECT to_regclass('migrate_race.users') IS NOT NULL");
  assert_string_equal(PQgetvalue(res, 0, 0), "t");
  PQclear(res);
  PQclear(PQexec(c, "DROP SCHEMA migrate_race CASCADE"));
  PQfinish(c);
  free(url);
  free(saved);
}

/* A file edited after it was applied stops the run instead of being skipped. */
static void test_changed_file_is_refused(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  assert_int_equal(h_migrate(c, herald_migrations, NULL), H_OK);
  struct herald_embedded edited[] = {
    {herald_migrations[0].name, "SELECT 1;", 9},
    {NULL, NULL, 0},
  };
  assert_int_equal(h_migrate(c, edited, NULL), H_ERR_CONFLICT);
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_twice_changes_nothing),
    cmocka_unit_test(test_concurrent_runs),
    cmocka_unit_test(test_changed_file_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Integration: the rules of the columns whose CHECK constraints keep their rule in a domain
 * since migration 0104 (deliveries.status and .channel, notifications.priority and .category,
 * audit_log.actor_type, idempotency_keys.status and .key). PostgreSQL must still refuse every
 * value the constraints refused, with check_violation (23514, which the store maps to
 * H_ERR_INVALID), on insert and on update, and accept the values at their bounds; and each
 * table constraint must be the short cast to its domain, not a list PostgreSQL would read back
 * from its stored tree and plan at every statement that writes the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notif_support.h"

static struct th_server srv;

static int setup(void **state) {
  (void)state;
  th_start(&srv); /* a migrated database */
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

/* Runs sql with one text parameter (NULL: none): see ns_sqlstate. */
static const char *run(PGconn *c, const char *sql, const char *param, char *value) {
  const char *params[] = {param, NULL};
  return ns_sqlstate(c, sql, params, value);
}

/* A length rule of 1 to max characters, through sql ($1 the value): the empty value and one of
 * max + 1 characters refused (23514), one of max accepted (value: its first column). */
static void length_bounds(PGconn *c, const char *sql, char ch, int max, char *value) {
  char *text = malloc((size_t)max + 2);
  assert_non_null(text);
  memset(text, ch, (size_t)max + 1);
  text[max + 1] = '\0';
  assert_string_equal(run(c, sql, "", NULL), "23514");
  assert_string_equal(run(c, sql, text, NULL), "23514");
  text[max] = '\0';
  assert_string_equal(run(c, sql, text, value), "");
  free(text);
}

static void test_deliveries(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char n[37], d[37];
  assert_string_equal(run(c, "INSERT INTO notifications (user_id, category)"
                             " VALUES (herald_uuid_v7(), 'rules') RETURNING id", NULL, n), "");
  /* statuses no sweeper, worker or alert looks at, so that other tests do not see them */
  char sql[512];
  snprintf(sql, sizeof(sql), "INSERT INTO deliveries (notification_id, user_id, channel, status)"
                             " SELECT id, user_id, $1, 'skipped' FROM notifications"
                             " WHERE id = '%s'::uuid RETURNING id", n);
  assert_string_equal(run(c, sql, "fax", NULL), "23514");
  assert_string_equal(run(c, sql, "", NULL), "23514");
  assert_string_equal(run(c, sql, "webhook", d), "");
  snprintf(sql, sizeof(sql), "UPDATE deliveries SET status = $1 WHERE id = '%s'::uuid", d);
  assert_string_equal(run(c, sql, "bogus", NULL), "23514");
  assert_string_equal(run(c, sql, "Sent", NULL), "23514");
  assert_string_equal(run(c, sql, "sent", NULL), "");
  snprintf(sql, sizeof(sql), "UPDATE deliveries SET channel = $1 WHERE id = '%s'::uuid", d);
  assert_string_equal(run(c, sql, "pigeon", NULL), "23514");
  /* a refused row leaves nothing behind, an accepted one is what was written */
  char v[37];
  snprintf(sql, sizeof(sql), "SELECT status || '/' || channel FROM deliveries"
                             " WHERE notification_id = '%s'::uuid", n);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "sent/webhook");
  /* the unnest of text arrays the group commit writes through is checked as well */
  snprintf(sql, sizeof(sql), "INSERT INTO deliveries (notification_id, user_id, channel, status)"
                             " SELECT id, user_id, 'email', unnest($1::text[]) FROM notifications"
                             " WHERE id = '%s'::uuid", n);
  assert_string_equal(run(c, sql, "{skipped,lost}", NULL), "23514");
  assert_string_equal(run(c, sql, "{skipped,sent}", NULL), "");
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries WHERE notification_id = '%s'::uuid",
           n);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "3");
  /* the notification's deletion takes its deliveries (0091) */
  snprintf(sql, sizeof(sql), "DELETE FROM notifications WHERE id = '%s'::uuid", n);
  assert_string_equal(run(c, sql, NULL, NULL), "");
  PQfinish(c);
}

static void test_notifications(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  const char *by_priority = "INSERT INTO notifications (user_id, category, priority)"
                            " VALUES (herald_uuid_v7(), 'rules', $1)";
  assert_string_equal(run(c, by_priority, "urgent", NULL), "23514");
  assert_string_equal(run(c, by_priority, "critical", NULL), "");
  const char *by_category = "INSERT INTO notifications (user_id, category)"
                            " VALUES (herald_uuid_v7(), $1) RETURNING id";
  char id[37];
  length_bounds(c, by_category, 'c', 64, id);
  char sql[256];
  snprintf(sql, sizeof(sql), "UPDATE notifications SET priority = $1 WHERE id = '%s'::uuid", id);
  assert_string_equal(run(c, sql, "none", NULL), "23514");
  assert_string_equal(run(c, sql, "low", NULL), "");
  assert_string_equal(run(c, "DELETE FROM notifications WHERE category = 'rules'"
                             " OR category ~ '^c{64}$'", NULL, NULL), "");
  PQfinish(c);
}

static void test_audit_and_keys(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  const char *audit = "INSERT INTO audit_log (actor_type, action) VALUES ($1, 'rules.test')";
  assert_string_equal(run(c, audit, "robot", NULL), "23514");
  assert_string_equal(run(c, audit, "api_key", NULL), "");
  const char *by_key = "INSERT INTO idempotency_keys (caller, key, request_hash, status)"
                       " VALUES ('rules', $1, 'h', 'in_flight')";
  length_bounds(c, by_key, 'k', 255, NULL);
  const char *by_status = "UPDATE idempotency_keys SET status = $1 WHERE caller = 'rules'";
  assert_string_equal(run(c, by_status, "done", NULL), "23514");
  assert_string_equal(run(c, by_status, "completed", NULL), "");
  assert_string_equal(run(c, "DELETE FROM idempotency_keys WHERE caller = 'rules'", NULL, NULL),
                      "");
  assert_string_equal(run(c, "DELETE FROM audit_log WHERE action = 'rules.test'", NULL, NULL),
                      "");
  PQfinish(c);
}

/* The rules live in the domains; the tables' constraints only cast to them. */
static void test_table_checks_cast_to_domains(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char v[37];
  const char *tables = " conrelid IN ('deliveries'::regclass, 'notifications'::regclass,"
                       " 'audit_log'::regclass, 'idempotency_keys'::regclass)";
  char sql[512];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND%s",
           tables);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "7");
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND%s"
           " AND pg_get_constraintdef(oid)"
           "   ~ '^CHECK \\(\\(\\(\\w+\\)::herald_\\w+ IS NOT NULL\\)\\)'"
           " AND length(conbin) < 400", tables);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "7");
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_deliveries),
    cmocka_unit_test(test_notifications),
    cmocka_unit_test(test_audit_and_keys),
    cmocka_unit_test(test_table_checks_cast_to_domains),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

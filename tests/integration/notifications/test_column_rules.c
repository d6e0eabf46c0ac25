/* Integration: the rules of the columns whose CHECK constraints keep their rule in a domain
 * since migration 0104 (deliveries.status and .channel, notifications.priority and .category,
 * audit_log.actor_type, idempotency_keys.status and .key) and 0107 (payments.status,
 * .payment_type, .provider, .provider_reference and .idempotency_key, refunds.status and
 * .reason, users.status, .role and .email). PostgreSQL must still refuse every value the
 * constraints refused, with check_violation (23514, which the store maps to H_ERR_INVALID), on
 * insert and on update, accept the values at their bounds (and NULL where the column takes
 * it); and each table constraint must be the short cast to its domain, not a list PostgreSQL
 * would read back from its stored tree and plan at every statement that writes the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
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

/* UPDATE table SET col = $1 on the row id: each value of refused (NULL-terminated) fails with
 * 23514, then accepted (NULL: none) is written. */
static void update_rule(PGconn *c, const char *table, const char *col, const char *id,
                        const char *const *refused, const char *accepted) {
  char sql[256];
  snprintf(sql, sizeof(sql), "UPDATE %s SET %s = $1 WHERE id = '%s'::uuid", table, col, id);
  for (size_t i = 0; refused[i] != NULL; i++) {
    assert_string_equal(run(c, sql, refused[i], NULL), "23514");
  }
  if (accepted != NULL) {
    assert_string_equal(run(c, sql, accepted, NULL), "");
  }
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
  update_rule(c, "deliveries", "status", d, (const char *[]){"bogus", "Sent", NULL}, "sent");
  update_rule(c, "deliveries", "channel", d, (const char *[]){"pigeon", NULL}, NULL);
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
  update_rule(c, "notifications", "priority", id, (const char *[]){"none", NULL}, "low");
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

/* A user for the payment rules' rows (its id in id); deleted with them by rules_cleanup. */
static void rules_user(PGconn *c, char id[37]) {
  assert_string_equal(run(c, "INSERT INTO users (email, password_hash)"
                             " VALUES ('rules-payments@example.com', 'x') RETURNING id",
                          NULL, id), "");
}

static void rules_cleanup(PGconn *c) {
  static const char *const steps[] = {
    "DELETE FROM refunds WHERE payment_id IN (SELECT p.id FROM payments p JOIN users u"
    " ON u.id = p.user_id WHERE u.email = 'rules-payments@example.com')",
    "DELETE FROM payments WHERE user_id IN (SELECT id FROM users"
    " WHERE email = 'rules-payments@example.com')",
    "DELETE FROM users WHERE email = 'rules-payments@example.com' OR email ~ '^(e{3}|e{254})$'",
  };
  for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
    assert_string_equal(run(c, steps[i], NULL, NULL), "");
  }
}

/* An INSERT of a valid payment of user's, with $1 for column col (one of its columns, or one
 * more), returning its id. */
static void payment_sql(char *sql, size_t n, const char *user, const char *col) {
  static const char *const cols[] = {"payment_type", "amount", "currency", "status", "provider"};
  static const char *const vals[] = {"'other'", "1000", "'USD'", "'processing'", "'stripe'"};
  char names[256] = "user_id", values[256];
  snprintf(values, sizeof(values), "'%s'::uuid", user);
  bool listed = false;
  for (size_t i = 0; i < sizeof(cols) / sizeof(*cols); i++) {
    bool here = strcmp(cols[i], col) == 0;
    listed = listed || here;
    size_t ln = strlen(names), lv = strlen(values);
    snprintf(names + ln, sizeof(names) - ln, ", %s", cols[i]);
    snprintf(values + lv, sizeof(values) - lv, ", %s", here ? "$1" : vals[i]);
  }
  if (!listed) {
    size_t ln = strlen(names), lv = strlen(values);
    snprintf(names + ln, sizeof(names) - ln, ", %s", col);
    snprintf(values + lv, sizeof(values) - lv, ", $1");
  }
  snprintf(sql, n, "INSERT INTO payments (%s) VALUES (%s) RETURNING id", names, values);
}

static void test_payments(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char user[37], pay[37];
  rules_user(c, user);
  char sql[512];
  payment_sql(sql, sizeof(sql), user, "description");
  assert_string_equal(run(c, sql, "rules", pay), "");
  payment_sql(sql, sizeof(sql), user, "payment_type");
  assert_string_equal(run(c, sql, "gift", NULL), "23514");
  assert_string_equal(run(c, sql, "venue_booking", NULL), "");
  payment_sql(sql, sizeof(sql), user, "provider");
  assert_string_equal(run(c, sql, "paypal", NULL), "23514");
  assert_string_equal(run(c, sql, "mpesa", NULL), "");
  payment_sql(sql, sizeof(sql), user, "provider_reference");
  length_bounds(c, sql, 'r', 64, NULL);
  payment_sql(sql, sizeof(sql), user, "idempotency_key");
  length_bounds(c, sql, 'k', 255, NULL);
  /* the two nullable columns take NULL, and the statuses are checked on update */
  char v[37];
  snprintf(sql, sizeof(sql), "SELECT (provider_reference IS NULL AND idempotency_key IS NULL)::text"
                             " FROM payments WHERE id = '%s'::uuid", pay);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "true");
  update_rule(c, "payments", "status", pay, (const char *[]){"paid", "Succeeded", NULL},
              "disputed");
  update_rule(c, "payments", "provider_reference", pay, (const char *[]){"", NULL}, NULL);
  snprintf(sql, sizeof(sql), "SELECT status || '/' || coalesce(provider_reference, '-')"
                             " FROM payments WHERE id = '%s'::uuid", pay);
  assert_string_equal(run(c, sql, NULL, v), "");
  assert_string_equal(v, "disputed/-");
  /* refunds: status and the nullable reason */
  char refund[37];
  snprintf(sql, sizeof(sql), "INSERT INTO refunds (payment_id, amount, currency, status, reason)"
                             " VALUES ('%s'::uuid, 100, 'USD', $1, NULL) RETURNING id", pay);
  assert_string_equal(run(c, sql, "refunded", NULL), "23514");
  assert_string_equal(run(c, sql, "pending", refund), "");
  update_rule(c, "refunds", "reason", refund, (const char *[]){"changed_mind", NULL},
              "requested_by_customer");
  update_rule(c, "refunds", "status", refund, (const char *[]){"done", NULL}, "canceled");
  rules_cleanup(c);
  PQfinish(c);
}

static void test_users(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  const char *by_email = "INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id";
  char e[256], id[37];
  assert_string_equal(run(c, by_email, "ee", NULL), "23514");
  memset(e, 'e', 255);
  e[255] = '\0';
  assert_string_equal(run(c, by_email, e, NULL), "23514");
  e[254] = '\0';
  assert_string_equal(run(c, by_email, e, NULL), "");
  assert_string_equal(run(c, by_email, "eee", id), "");
  update_rule(c, "users", "status", id, (const char *[]){"gone", NULL}, "disabled");
  update_rule(c, "users", "role", id, (const char *[]){"root", "Admin", NULL}, "user");
  update_rule(c, "users", "email", id, (const char *[]){"", NULL}, NULL);
  rules_cleanup(c);
  PQfinish(c);
}

/* The count of c's check constraints on tables (a list of regclass literals) whose definition
 * matches pattern and whose tree is shorter than max characters, as text in v. */
static void count_checks(PGconn *c, const char *tables, const char *pattern, int max, char *v) {
  char sql[768];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_constraint WHERE contype = 'c'"
                             " AND conrelid IN (%s) AND pg_get_constraintdef(oid) ~ $1"
                             " AND length(conbin) < %d", tables, max);
  assert_string_equal(run(c, sql, pattern, v), "");
}

/* The rules live in the domains; the tables' constraints only cast to them. */
static void test_table_checks_cast_to_domains(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char v[37];
  const char *cast = "^CHECK \\(\\(\\(\\w+\\)::herald_\\w+ IS NOT NULL\\)\\)";
  const char *nullable = "^CHECK \\(\\(\\((\\w+) IS NULL\\) OR "
                         "\\(\\(\\1\\)::herald_\\w+ IS NOT NULL\\)\\)\\)";
  const char *w0104 = "'deliveries'::regclass, 'notifications'::regclass,"
                      " 'audit_log'::regclass, 'idempotency_keys'::regclass";
  count_checks(c, w0104, "", 100000, v);
  assert_string_equal(v, "7");
  count_checks(c, w0104, cast, 400, v);
  assert_string_equal(v, "7");
  const char *w0107 = "'payments'::regclass, 'refunds'::regclass, 'users'::regclass";
  count_checks(c, w0107, cast, 400, v);
  assert_string_equal(v, "7");
  count_checks(c, w0107, nullable, 600, v);
  assert_string_equal(v, "3");
  /* what stays a table rule there: amounts, currencies, the receipt number, name and phone */
  count_checks(c, w0107, "herald_", 100000, v);
  assert_string_equal(v, "10");
  count_checks(c, w0107, "", 100000, v);
  assert_string_equal(v, "21");
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_deliveries),
    cmocka_unit_test(test_notifications),
    cmocka_unit_test(test_audit_and_keys),
    cmocka_unit_test(test_payments),
    cmocka_unit_test(test_users),
    cmocka_unit_test(test_table_checks_cast_to_domains),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Integration: the three references a row holds only now and then (migration 0102):
 * notifications.broadcast_id, deliveries.endpoint_id and deliveries.digest_delivery_id. Each
 * was a foreign key, checked for every row inserted, NULL or not; each is now a trigger that
 * runs only for a key that is set. What the keys did must still hold, checked in PostgreSQL:
 * a key that references nothing fails with foreign_key_violation (23503), on insert and on
 * update, and deleting the referenced row sets the key NULL (ON DELETE SET NULL). */
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
  setenv("HERALD_FANOUT_POLL_MS", "0", 1); /* the broadcasts below are rows, not sends */
  th_start(&srv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  th_stop(&srv);
  return 0;
}

#define MISSING "00000000-0000-4000-8000-00000000dead"

/* ns_sqlstate, by a shorter name: the SQLSTATE of sql's error, or "" (params NULL-terminated). */
static const char *run(PGconn *c, const char *sql, const char *const *params, char *value) {
  return ns_sqlstate(c, sql, params, value);
}

/* Inserts a notification for a made-up user (no key to users: 0091) and returns its id. */
static void notification(PGconn *c, char id[37]) {
  assert_string_equal(run(c, "INSERT INTO notifications (user_id, category)"
                             " VALUES (herald_uuid_v7(), 'references') RETURNING id",
                          NULL, id), "");
}

/* Inserts an e-mail delivery of notification n (status 'sent') and returns its id. */
static void delivery(PGconn *c, const char *n, char id[37]) {
  const char *p[] = {n, NULL};
  assert_string_equal(run(c, "INSERT INTO deliveries (notification_id, user_id, channel, status)"
                             " SELECT id, user_id, 'email', 'sent' FROM notifications"
                             " WHERE id = $1::uuid RETURNING id",
                          p, id), "");
}

static void test_broadcast_reference(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char b[37], n[37], v[37];
  assert_string_equal(run(c, "INSERT INTO broadcasts (kind, target, request, status)"
                             " VALUES ('bulk', 'all', '{}', 'completed') RETURNING id",
                          NULL, b), "");
  notification(c, n);
  const char *missing[] = {MISSING, n, NULL};
  const char *set[] = {b, n, NULL};
  const char *one[] = {n, NULL};
  /* nothing referenced: refused on insert and on update */
  assert_string_equal(run(c, "INSERT INTO notifications (user_id, category, broadcast_id)"
                             " VALUES (herald_uuid_v7(), 'references', $1::uuid)",
                          (const char *[]){MISSING, NULL}, NULL), "23503");
  assert_string_equal(run(c, "UPDATE notifications SET broadcast_id = $1::uuid"
                             " WHERE id = $2::uuid", missing, NULL), "23503");
  /* a broadcast that exists: accepted */
  assert_string_equal(run(c, "UPDATE notifications SET broadcast_id = $1::uuid"
                             " WHERE id = $2::uuid", set, NULL), "");
  assert_string_equal(run(c, "SELECT broadcast_id FROM notifications WHERE id = $1::uuid",
                          one, v), "");
  assert_string_equal(v, b);
  /* the broadcast deleted: the notification stays, its key cleared */
  assert_string_equal(run(c, "DELETE FROM broadcasts WHERE id = $1::uuid",
                          (const char *[]){b, NULL}, NULL), "");
  assert_string_equal(run(c, "SELECT COALESCE(broadcast_id::text, 'null') FROM notifications"
                             " WHERE id = $1::uuid", one, v), "");
  assert_string_equal(v, "null");
  PQfinish(c);
}

static void test_endpoint_reference(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char e[37], n[37], d[37], v[37];
  assert_string_equal(run(c, "INSERT INTO webhook_endpoints (url, secret)"
                             " VALUES ('http://127.0.0.1:9/hook', 'whsec_references')"
                             " RETURNING id", NULL, e), "");
  notification(c, n);
  const char *missing[] = {n, MISSING, NULL};
  assert_string_equal(run(c, "INSERT INTO deliveries (notification_id, user_id, channel, status,"
                             " endpoint_id) SELECT id, user_id, 'webhook', 'queued', $2::uuid"
                             " FROM notifications WHERE id = $1::uuid", missing, NULL), "23503");
  const char *set[] = {n, e, NULL};
  assert_string_equal(run(c, "INSERT INTO deliveries (notification_id, user_id, channel, status,"
                             " endpoint_id) SELECT id, user_id, 'webhook', 'queued', $2::uuid"
                             " FROM notifications WHERE id = $1::uuid RETURNING id", set, d), "");
  const char *to_missing[] = {MISSING, d, NULL};
  assert_string_equal(run(c, "UPDATE deliveries SET endpoint_id = $1::uuid WHERE id = $2::uuid",
                          to_missing, NULL), "23503");
  assert_string_equal(run(c, "DELETE FROM webhook_endpoints WHERE id = $1::uuid",
                          (const char *[]){e, NULL}, NULL), "");
  assert_string_equal(run(c, "SELECT COALESCE(endpoint_id::text, 'null') FROM deliveries"
                             " WHERE id = $1::uuid", (const char *[]){d, NULL}, v), "");
  assert_string_equal(v, "null");
  PQfinish(c);
}

static void test_digest_reference(void **state) {
  (void)state;
  PGconn *c = th_db_connect();
  char n[37], digest[37], carried[37], other[37], v[37];
  notification(c, n);
  delivery(c, n, digest);
  delivery(c, n, carried);
  delivery(c, n, other);
  const char *missing[] = {MISSING, carried, NULL};
  assert_string_equal(run(c, "UPDATE deliveries SET digest_delivery_id = $1::uuid"
                             " WHERE id = $2::uuid", missing, NULL), "23503");
  assert_string_equal(run(c, "INSERT INTO deliveries (notification_id, user_id, channel, status,"
                             " digest_delivery_id) SELECT id, user_id, 'email', 'digested',"
                             " $2::uuid FROM notifications WHERE id = $1::uuid",
                          (const char *[]){n, MISSING, NULL}, NULL), "23503");
  const char *set[] = {digest, carried, other, NULL};
  assert_string_equal(run(c, "UPDATE deliveries SET digest_delivery_id = $1::uuid"
                             " WHERE id IN ($2::uuid, $3::uuid)", set, NULL), "");
  /* the digest delivery deleted: what it carried stays, its key cleared */
  assert_string_equal(run(c, "DELETE FROM deliveries WHERE id = $1::uuid",
                          (const char *[]){digest, NULL}, NULL), "");
  assert_string_equal(run(c, "SELECT count(*) FROM deliveries WHERE id IN ($1::uuid, $2::uuid)"
                             " AND digest_delivery_id IS NULL",
                          (const char *[]){carried, other, NULL}, v), "");
  assert_string_equal(v, "2");
  PQfinish(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_broadcast_reference),
    cmocka_unit_test(test_endpoint_reference),
    cmocka_unit_test(test_digest_reference),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

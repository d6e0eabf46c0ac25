/* Unit tests: the per-user copies (common/core/copy_cache.h): nothing kept or served while
 * offline, a ticket spoiled by a drop, a drop of all or a switch, copies aged out after the
 * table's life or their own shorter one, keys in any case, variants apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/copy_cache.h"

#define U1 "0b6f3c2e-8d1a-4c5b-9e7f-112233445566"
#define U1_UPPER "0B6F3C2E-8D1A-4C5B-9E7F-112233445566"
#define U2 "7d1e9a40-2b3c-4d5e-8f60-aabbccddeeff"

static void test_offline_keeps_nothing(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{\"a\":1}", -1, &t);
  assert_null(h_copy_cache_get(c, U1, 0, &t)); /* still offline */
  h_copy_cache_set_online(c, true);
  assert_null(h_copy_cache_get(c, U1, 0, &t)); /* the offline put was not kept */
  h_copy_cache_free(c);
}

static void test_kept_and_served_online(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{\"a\":1}", -1, &t);
  char *body = h_copy_cache_get(c, U1_UPPER, 0, &t); /* any case */
  assert_non_null(body);
  assert_string_equal(body, "{\"a\":1}");
  free(body);
  assert_null(h_copy_cache_get(c, U2, 0, &t)); /* another user: a miss */
  h_copy_cache_set_online(c, false);
  assert_null(h_copy_cache_get(c, U1, 0, &t)); /* offline: dropped */
  h_copy_cache_set_online(c, true);
  assert_null(h_copy_cache_get(c, U1, 0, &t)); /* and not back when online again */
  h_copy_cache_free(c);
}

/* A read that began before a drop (the notice of a change) must not keep what it read. */
static void test_drop_spoils_tickets(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_drop(c, U1_UPPER);
  h_copy_cache_put(c, U1, 0, "{\"old\":true}", -1, &t);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{\"new\":true}", -1, &t);
  char *body = h_copy_cache_get(c, U1, 0, &t);
  assert_string_equal(body, "{\"new\":true}");
  free(body);
  h_copy_cache_drop(c, U1);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_free(c);
}

/* A ticket taken before the cache went online (or offline and back) is void. */
static void test_switch_spoils_tickets(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_set_online(c, false);
  h_copy_cache_set_online(c, true);
  h_copy_cache_put(c, U1, 0, "{\"a\":1}", -1, &t);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_free(c);
}

static void test_copies_age_out(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 50);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{}", -1, &t);
  char *body = h_copy_cache_get(c, U1, 0, &t);
  assert_non_null(body);
  free(body);
  nanosleep(&(struct timespec){0, 80 * 1000000L}, NULL);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_free(c);
}

/* A copy lives no longer than its writer says (a scheduled notification falling due), and a
 * life of 0 keeps nothing. */
static void test_own_life(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{}", 0, &t);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{}", 50, &t);
  char *text = h_copy_cache_get(c, U1, 0, &t);
  assert_non_null(text);
  free(text);
  nanosleep(&(struct timespec){0, 80 * 1000000L}, NULL);
  assert_null(h_copy_cache_get(c, U1, 0, &t));
  h_copy_cache_put(c, U1, 0, "{}", 3600000, &t); /* longer than the table's: its 60 s */
  text = h_copy_cache_get(c, U1, 0, &t);
  assert_string_equal(text, "{}");
  free(text);
  h_copy_cache_free(c);
}

/* A lookup of another variant misses, and a put of it replaces the copy held. */
static void test_variants_apart(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(c, U1, 20, &t));
  h_copy_cache_put(c, U1, 20, "twenty", -1, &t);
  assert_null(h_copy_cache_get(c, U1, 50, &t));
  h_copy_cache_put(c, U1, 50, "fifty", -1, &t);
  char *text = h_copy_cache_get(c, U1, 50, &t);
  assert_string_equal(text, "fifty");
  free(text);
  assert_null(h_copy_cache_get(c, U1, 20, &t));
  h_copy_cache_free(c);
}

/* A drop of all voids every copy and every ticket taken before it; the table stays online. */
static void test_drop_all(void **state) {
  (void)state;
  struct h_copy_cache *c = h_copy_cache_new(64, 60000);
  h_copy_cache_set_online(c, true);
  struct h_copy_ticket t1, t2;
  assert_null(h_copy_cache_get(c, U1, 0, &t1));
  h_copy_cache_put(c, U1, 0, "one", -1, &t1);
  assert_null(h_copy_cache_get(c, U2, 0, &t2));
  h_copy_cache_drop_all(c);
  h_copy_cache_put(c, U2, 0, "two", -1, &t2); /* read before the drop: not kept */
  assert_null(h_copy_cache_get(c, U1, 0, &t1));
  assert_null(h_copy_cache_get(c, U2, 0, &t2));
  h_copy_cache_put(c, U2, 0, "two", -1, &t2);
  char *text = h_copy_cache_get(c, U2, 0, &t2);
  assert_string_equal(text, "two");
  free(text);
  struct h_copy_cache_stats st;
  h_copy_cache_stats(c, &st);
  assert_true(st.online);
  assert_int_equal(st.hits, 1);
  assert_int_equal(st.drops, 1);
  h_copy_cache_free(c);
}

/* No table (HERALD_USER_CACHE_MS=0): every call is a miss and nothing fails. */
static void test_no_table(void **state) {
  (void)state;
  struct h_copy_ticket t;
  assert_null(h_copy_cache_get(NULL, U1, 0, &t));
  h_copy_cache_put(NULL, U1, 0, "{}", -1, &t);
  h_copy_cache_drop(NULL, U1);
  h_copy_cache_set_online(NULL, true);
  h_copy_cache_drop_all(NULL);
  h_copy_cache_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_offline_keeps_nothing),
    cmocka_unit_test(test_kept_and_served_online),
    cmocka_unit_test(test_drop_spoils_tickets),
    cmocka_unit_test(test_switch_spoils_tickets),
    cmocka_unit_test(test_copies_age_out),
    cmocka_unit_test(test_own_life),
    cmocka_unit_test(test_variants_apart),
    cmocka_unit_test(test_drop_all),
    cmocka_unit_test(test_no_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

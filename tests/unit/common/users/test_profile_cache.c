/* Unit tests: the table of users' profiles (common/users/profile_cache.h): nothing kept or
 * served while offline, a ticket spoiled by a drop or a switch, copies aged out, keys in any
 * case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "users/profile_cache.h"

#define U1 "0b6f3c2e-8d1a-4c5b-9e7f-112233445566"
#define U1_UPPER "0B6F3C2E-8D1A-4C5B-9E7F-112233445566"
#define U2 "7d1e9a40-2b3c-4d5e-8f60-aabbccddeeff"

static void test_offline_keeps_nothing(void **state) {
  (void)state;
  struct h_profile_cache *c = h_profile_cache_new(64, 60000);
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_put(c, U1, "{\"a\":1}", &t);
  assert_null(h_profile_cache_get(c, U1, &t)); /* still offline */
  h_profile_cache_set_online(c, true);
  assert_null(h_profile_cache_get(c, U1, &t)); /* the offline put was not kept */
  h_profile_cache_free(c);
}

static void test_kept_and_served_online(void **state) {
  (void)state;
  struct h_profile_cache *c = h_profile_cache_new(64, 60000);
  h_profile_cache_set_online(c, true);
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_put(c, U1, "{\"a\":1}", &t);
  char *body = h_profile_cache_get(c, U1_UPPER, &t); /* any case */
  assert_non_null(body);
  assert_string_equal(body, "{\"a\":1}");
  free(body);
  assert_null(h_profile_cache_get(c, U2, &t)); /* another user: a miss */
  h_profile_cache_set_online(c, false);
  assert_null(h_profile_cache_get(c, U1, &t)); /* offline: dropped */
  h_profile_cache_set_online(c, true);
  assert_null(h_profile_cache_get(c, U1, &t)); /* and not back when online again */
  h_profile_cache_free(c);
}

/* A read that began before a drop (the notice of a change) must not keep what it read. */
static void test_drop_spoils_tickets(void **state) {
  (void)state;
  struct h_profile_cache *c = h_profile_cache_new(64, 60000);
  h_profile_cache_set_online(c, true);
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_drop(c, U1_UPPER);
  h_profile_cache_put(c, U1, "{\"old\":true}", &t);
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_put(c, U1, "{\"new\":true}", &t);
  char *body = h_profile_cache_get(c, U1, &t);
  assert_string_equal(body, "{\"new\":true}");
  free(body);
  h_profile_cache_drop(c, U1);
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_free(c);
}

/* A ticket taken before the cache went online (or offline and back) is void. */
static void test_switch_spoils_tickets(void **state) {
  (void)state;
  struct h_profile_cache *c = h_profile_cache_new(64, 60000);
  h_profile_cache_set_online(c, true);
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_set_online(c, false);
  h_profile_cache_set_online(c, true);
  h_profile_cache_put(c, U1, "{\"a\":1}", &t);
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_free(c);
}

static void test_copies_age_out(void **state) {
  (void)state;
  struct h_profile_cache *c = h_profile_cache_new(64, 50);
  h_profile_cache_set_online(c, true);
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_put(c, U1, "{}", &t);
  char *body = h_profile_cache_get(c, U1, &t);
  assert_non_null(body);
  free(body);
  nanosleep(&(struct timespec){0, 80 * 1000000L}, NULL);
  assert_null(h_profile_cache_get(c, U1, &t));
  h_profile_cache_free(c);
}

/* No table (HERALD_USER_CACHE_MS=0): every call is a miss and nothing fails. */
static void test_no_table(void **state) {
  (void)state;
  struct h_profile_ticket t;
  assert_null(h_profile_cache_get(NULL, U1, &t));
  h_profile_cache_put(NULL, U1, "{}", &t);
  h_profile_cache_drop(NULL, U1);
  h_profile_cache_set_online(NULL, true);
  h_profile_cache_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_offline_keeps_nothing),
    cmocka_unit_test(test_kept_and_served_online),
    cmocka_unit_test(test_drop_spoils_tickets),
    cmocka_unit_test(test_switch_spoils_tickets),
    cmocka_unit_test(test_copies_age_out),
    cmocka_unit_test(test_no_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

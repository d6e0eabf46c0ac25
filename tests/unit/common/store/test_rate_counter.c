/* Unit tests: the in-process fixed-window counters and the leases of counts
 * (common/store/rate_counter.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "store/rate_counter.h"

static long hit(struct h_rate_local *l, const char *key, int window_s, long now, long *reset) {
  struct h_rate_hit h = {.key = key, .window_s = window_s};
  h_rate_local_hit(l, &h, now);
  if (reset != NULL) {
    *reset = h.reset_s;
  }
  return h.count;
}

static void test_window(void **state) {
  (void)state;
  struct h_rate_local *l = h_rate_local_create(64);
  long reset = 0;
  assert_int_equal(hit(l, "a", 10, 100, &reset), 1);
  assert_int_equal(reset, 10);
  assert_int_equal(hit(l, "a", 10, 104, &reset), 2);
  assert_int_equal(reset, 6);
  assert_int_equal(hit(l, "b", 10, 104, NULL), 1); /* keys apart */
  assert_int_equal(hit(l, "a", 10, 110, &reset), 1); /* a new window */
  assert_int_equal(reset, 10);
  h_rate_local_destroy(l);
}

static void test_full_table_evicts_oldest(void **state) {
  (void)state;
  struct h_rate_local *l = h_rate_local_create(16);
  char key[32];
  for (int i = 0; i < 1000; i++) { /* far more keys than slots: bounded, never fails */
    snprintf(key, sizeof(key), "k%d", i);
    assert_int_equal(hit(l, key, 60, 1000 + i, NULL), 1);
  }
  for (int i = 0; i < 5; i++) { /* the newest key keeps counting */
    assert_int_equal(hit(l, "k999", 60, 2000, NULL), 2 + i);
  }
  h_rate_local_destroy(l);
}

static void test_lease_size(void **state) {
  (void)state;
  assert_int_equal(h_rate_lease_size(600, 0, 64), 64);  /* capped */
  assert_int_equal(h_rate_lease_size(80, 0, 64), 10);   /* an eighth of what is left */
  assert_int_equal(h_rate_lease_size(80, 72, 64), 1);   /* close to the limit: one */
  assert_int_equal(h_rate_lease_size(80, 200, 64), 1);  /* over it: one */
  assert_int_equal(h_rate_lease_size(3, 0, 64), 1);
  assert_int_equal(h_rate_lease_size(63, 0, 64), 1);    /* small limits are never leased */
  assert_int_equal(h_rate_lease_size(64, 0, 64), 8);
  assert_int_equal(h_rate_lease_size(1000000, 0, 1), 1); /* leases off */
}

/* A block (count - take, count] hands out each count once, then asks for a new one; an ended
 * window's block is not used. */
static void test_lease_hands_out_a_block_once(void **state) {
  (void)state;
  struct h_rate_leases *l = h_rate_leases_create(64, 64);
  struct h_rate_hit h = {.key = "herald:rl:read:u:1", .window_s = 60, .limit = 80};
  long take = 0;
  assert_false(h_rate_lease_take(l, &h, 1000, &take)); /* nothing lent yet */
  assert_int_equal(take, 10);
  h_rate_lease_store(l, &h, 25, take, 30000, 1000); /* Redis: 25, so this block is 16..25 */
  assert_int_equal(h.count, 16);
  assert_int_equal(h.reset_s, 30);
  for (long want = 17; want <= 25; want++) {
    assert_true(h_rate_lease_take(l, &h, 2000, &take));
    assert_int_equal(h.count, want);
  }
  assert_false(h_rate_lease_take(l, &h, 2000, &take)); /* used up */
  assert_int_equal(take, h_rate_lease_size(80, 25, 64));
  h_rate_lease_store(l, &h, 40, 6, 20000, 2000);
  assert_true(h_rate_lease_take(l, &h, 21999, &take));
  assert_false(h_rate_lease_take(l, &h, 22000, &take)); /* its window ended */
  assert_int_equal(take, 10);                          /* a new window: nothing known */
  struct h_rate_hit other = {.key = "herald:rl:read:u:2", .window_s = 60, .limit = 80};
  assert_false(h_rate_lease_take(l, &other, 2000, &take)); /* keys apart */
  h_rate_leases_destroy(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_window),
    cmocka_unit_test(test_full_table_evicts_oldest),
    cmocka_unit_test(test_lease_size),
    cmocka_unit_test(test_lease_hands_out_a_block_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

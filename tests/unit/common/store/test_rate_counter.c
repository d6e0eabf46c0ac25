/* Unit tests: the in-process fixed-window counters (common/store/rate_counter.h). */
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_window),
    cmocka_unit_test(test_full_table_evicts_oldest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

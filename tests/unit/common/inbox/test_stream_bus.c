/* Unit: common/inbox/stream_bus.c and stream_ticket.c - the pure parts: shards and the shape
 * of a ticket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "inbox/stream_bus.h"
#include "inbox/stream_ticket.h"

static void test_shard_stable_and_case_blind(void **state) {
  (void)state;
  const char *id = "0a36f499-698e-4543-9a05-28f9c9e75744";
  int s = h_stream_shard(id, 16);
  assert_true(s >= 0 && s < 16);
  assert_int_equal(h_stream_shard("0A36F499-698E-4543-9A05-28F9C9E75744", 16), s);
  assert_int_equal(h_stream_shard(id, 1), 0);
  int seen[16] = {0};
  char other[37] = "00000000-0000-4000-8000-000000000000";
  for (int i = 0; i < 256; i++) {
    other[34] = "0123456789abcdef"[i / 16];
    other[35] = "0123456789abcdef"[i % 16];
    seen[h_stream_shard(other, 16)]++;
  }
  for (int i = 0; i < 16; i++) {
    assert_true(seen[i] > 0); /* every shard gets some users */
  }
}

static void test_ticket_shape(void **state) {
  (void)state;
  assert_true(h_stream_ticket_well_formed("XTZVm9Vboiofbir-WTXkETYqmYkrpsHZTpWucKzg6tQ"));
  assert_false(h_stream_ticket_well_formed(NULL));
  assert_false(h_stream_ticket_well_formed(""));
  assert_false(h_stream_ticket_well_formed("abc"));
  assert_false(h_stream_ticket_well_formed("XTZVm9Vboiofbir-WTXkETYqmYkrpsHZTpWucKzg6t="));
  assert_false(h_stream_ticket_well_formed("XTZVm9Vboiofbir-WTXkETYqmYkrpsHZTpWucKzg6tQQ"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shard_stable_and_case_blind),
    cmocka_unit_test(test_ticket_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit: common/inbox/sse.c - SSE framing and the bounded stream queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "inbox/sse.h"

static void test_event_with_id(void **state) {
  (void)state;
  size_t n = 0;
  char *t = h_sse_event(42, "notification.created", "{\"id\":\"x\"}", &n);
  assert_string_equal(t, "id: 42\nevent: notification.created\ndata: {\"id\":\"x\"}\n\n");
  assert_int_equal(n, strlen(t));
  free(t);
}

static void test_event_without_id_and_multiline_data(void **state) {
  (void)state;
  size_t n = 0;
  char *t = h_sse_event(-1, "stream.overflow", "a\r\nb\nc", &n);
  assert_string_equal(t, "event: stream.overflow\ndata: a\ndata: b\ndata: c\n\n");
  free(t);
  t = h_sse_event(0, "unread_count", "", &n);
  assert_string_equal(t, "id: 0\nevent: unread_count\ndata: \n\n");
  free(t);
}

static void test_buffer_bounded(void **state) {
  (void)state;
  struct h_sse_buf b;
  h_sse_buf_init(&b, 1000);
  char chunk[300];
  memset(chunk, 'a', sizeof(chunk));
  assert_true(h_sse_buf_append(&b, chunk, 300, 100));
  assert_true(h_sse_buf_append(&b, chunk, 300, 100));
  assert_true(h_sse_buf_append(&b, chunk, 300, 100));           /* 900 > 1000 - 100 */
  assert_false(h_sse_buf_append(&b, chunk, 1, 100));            /* full for ordinary text */
  assert_true(h_sse_buf_append(&b, chunk, 100, 0));             /* the reserve */
  assert_false(h_sse_buf_append(&b, chunk, 1, 0));              /* never past the limit */
  assert_int_equal(h_sse_buf_used(&b), 1000);
  assert_true(b.cap <= 1000);
  assert_false(h_sse_buf_append(&b, chunk, 1, 2000));           /* reserve above the limit */
  h_sse_buf_free(&b);
}

static void test_buffer_fifo_and_release(void **state) {
  (void)state;
  struct h_sse_buf b;
  h_sse_buf_init(&b, 4096);
  assert_true(h_sse_buf_append(&b, "hello ", 6, 0));
  assert_true(h_sse_buf_append(&b, "world", 5, 0));
  char out[16] = {0};
  assert_int_equal(h_sse_buf_take(&b, out, 4), 4);
  assert_memory_equal(out, "hell", 4);
  assert_true(h_sse_buf_append(&b, "!", 1, 0));
  memset(out, 0, sizeof(out));
  assert_int_equal(h_sse_buf_take(&b, out, sizeof(out)), 8);
  assert_string_equal(out, "o world!");
  assert_null(b.data); /* drained: storage released */
  assert_int_equal(h_sse_buf_take(&b, out, sizeof(out)), 0);
  /* compaction: taking from the front and appending never loses or reorders bytes */
  for (int round = 0; round < 50; round++) {
    char in[100];
    memset(in, 'a' + round % 26, sizeof(in));
    assert_true(h_sse_buf_append(&b, in, sizeof(in), 0));
    char got[60];
    assert_int_equal(h_sse_buf_take(&b, got, sizeof(got)), 60);
  }
  assert_int_equal(h_sse_buf_used(&b), 50 * 40);
  h_sse_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_event_with_id),
    cmocka_unit_test(test_event_without_id_and_multiline_data),
    cmocka_unit_test(test_buffer_bounded),
    cmocka_unit_test(test_buffer_fifo_and_release),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests: Redis URL parsing and error-reply classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "store/redis.h"

static void test_parse(void **state) {
  (void)state;
  struct h_redis_target t;
  assert_int_equal(h_redis_parse_url("redis://127.0.0.1:6380/2", 500, &t), H_OK);
  assert_string_equal(t.host, "127.0.0.1");
  assert_int_equal(t.port, 6380);
  assert_int_equal(t.db, 2);
  assert_int_equal(t.timeout_ms, 500);
  assert_string_equal(t.password, "");
  assert_int_equal(h_redis_parse_url("redis://:s3cret@cache", 1, &t), H_OK);
  assert_string_equal(t.host, "cache");
  assert_int_equal(t.port, 6379);
  assert_string_equal(t.password, "s3cret");
  assert_int_equal(h_redis_parse_url("redis://user:pw@h:1/", 1, &t), H_OK);
  assert_string_equal(t.password, "pw");
}

static void test_parse_rejects(void **state) {
  (void)state;
  struct h_redis_target t;
  assert_int_equal(h_redis_parse_url("http://x", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://h:0", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://h:99999", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://h:12x", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://h/16", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url("redis://h/x", 1, &t), H_ERR_INVALID);
  assert_int_equal(h_redis_parse_url(NULL, 1, &t), H_ERR_INVALID);
}

static void test_classify(void **state) {
  (void)state;
  assert_int_equal(h_redis_classify_error("LOADING Redis is loading"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_redis_classify_error("READONLY You can't write"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_redis_classify_error("OOM command not allowed"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_redis_classify_error("MASTERDOWN Link is down"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_redis_classify_error("WRONGTYPE Operation"), H_ERR_INVALID);
  assert_int_equal(h_redis_classify_error("ERR unknown command"), H_ERR_INVALID);
  assert_int_equal(h_redis_classify_error("OOMPH"), H_ERR_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_parse_rejects),
    cmocka_unit_test(test_classify),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

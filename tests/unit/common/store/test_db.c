/* Unit tests: the mapping of SQLSTATE codes to result codes (store/db.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/result.h"
#include "store/db.h"

static void test_sqlstate(void **state) {
  (void)state;
  assert_int_equal(h_db_map_sqlstate("23505"), H_ERR_CONFLICT);
  assert_int_equal(h_db_map_sqlstate("40001"), H_ERR_CONFLICT);
  assert_int_equal(h_db_map_sqlstate("23503"), H_ERR_INVALID);
  assert_int_equal(h_db_map_sqlstate("22P02"), H_ERR_INVALID);
  assert_int_equal(h_db_map_sqlstate("57014"), H_ERR_TIMEOUT);
  assert_int_equal(h_db_map_sqlstate("08006"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_db_map_sqlstate("57P01"), H_ERR_UNAVAILABLE);
  assert_int_equal(h_db_map_sqlstate("42P01"), H_ERR_INTERNAL);
  assert_int_equal(h_db_map_sqlstate(NULL), H_ERR_INTERNAL);
  assert_int_equal(h_db_map_sqlstate("235"), H_ERR_INTERNAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sqlstate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

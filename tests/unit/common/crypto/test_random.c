/* Unit tests: a failing CSPRNG (injected through h_random_set_source) is never used: the
 * functions that can report it fail, the others abort before making a secret from nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/crypto.h"

static int failing(unsigned char *buf, int n) {
  memset(buf, 0xAA, (size_t)n); /* whatever it wrote must not survive */
  return 0;
}

static int setup(void **state) {
  (void)state;
  h_random_set_source(failing);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  h_random_set_source(NULL);
  return 0;
}

static void test_reported(void **state) {
  (void)state;
  unsigned char buf[16];
  assert_int_equal(h_random_bytes(buf, sizeof(buf)), H_ERR_INTERNAL);
  for (size_t i = 0; i < sizeof(buf); i++) {
    assert_int_equal(buf[i], 0);
  }
  char uuid[H_UUID_LEN + 1];
  assert_int_equal(h_uuid_v4(uuid), H_ERR_INTERNAL);
  assert_int_equal(h_uuid_v7(uuid), H_ERR_INTERNAL);
  char *hash = (char *)"untouched";
  assert_int_equal(h_password_hash("correct-horse-battery", &hash), H_ERR_INTERNAL);
  assert_null(hash);
}

/* Runs fn in a child process: true when it died of SIGABRT. */
static bool aborts(void (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void make_token(void) { free(h_random_token(32)); }
static void make_fast_uuid(void) {
  char out[H_UUID_LEN + 1];
  h_uuid_v4_fast(out);
}
static void fill(void) {
  unsigned char b[4];
  h_random_bytes_or_abort(b, sizeof(b));
}

static void test_aborted(void **state) {
  (void)state;
  assert_true(aborts(make_token));
  assert_true(aborts(make_fast_uuid));
  assert_true(aborts(fill));
}

static void test_working_source(void **state) {
  (void)state;
  h_random_set_source(NULL);
  char *token = h_random_token(32);
  assert_non_null(token);
  assert_int_equal(strlen(token), 43);
  free(token);
  char id[H_UUID_LEN + 1];
  assert_int_equal(h_uuid_v7(id), H_OK); /* fills this thread's pool of id bytes */
  h_random_set_source(failing);
  assert_int_equal(h_uuid_v7(id), H_ERR_INTERNAL); /* a new source drops the pool */
}

int main(void) {
  h_log_init("unit-random", "error");
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reported),
    cmocka_unit_test(test_aborted),
    cmocka_unit_test(test_working_source),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests: the `file` providers' writer (workers/runtime/outbox_file.c) creates its folders
 * 0700 and its files 0600, even with a permissive umask or a leftover temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker.h"

static mode_t mode_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_mode & 07777;
}

static void test_modes(void **state) {
  (void)state;
  char base[] = "/tmp/herald-outbox-XXXXXX";
  assert_non_null(mkdtemp(base));
  char dir[128], file[160], tmp[160];
  snprintf(dir, sizeof(dir), "%s/outbox/email", base);
  snprintf(file, sizeof(file), "%s/m1.eml", dir);
  snprintf(tmp, sizeof(tmp), "%s/.m2.eml.tmp", dir);
  mode_t old = umask(0);
  char *error = NULL;
  assert_int_equal(h_outbox_write_file(dir, "m1.eml", "secret", 6, &error), H_OK);
  assert_int_equal(mode_of(file), 0600);
  assert_int_equal(mode_of(dir), 0700);
  int fd = open(tmp, O_WRONLY | O_CREAT, 0666); /* a crash's leftover, world-readable */
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(h_outbox_write_file(dir, "m2.eml", "secret", 6, &error), H_OK);
  snprintf(file, sizeof(file), "%s/m2.eml", dir);
  assert_int_equal(mode_of(file), 0600);
  umask(old);
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_modes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

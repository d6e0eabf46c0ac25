/* outbox_file.c - helpers for providers: error text and the atomic file writer of
 * the `file` providers (var/outbox/<channel>/). Messages hold personal data and one-time
 * tokens: files are 0600 and the folders 0700, whatever the umask. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "worker.h"

void h_send_errorf(struct h_send_result *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->error, sizeof(out->error), fmt, ap);
  va_end(ap);
}

/* mkdir -p dir (0700). */
static int make_dirs(const char *dir) {
  char *path = h_strdup(dir);
  int rc = 0;
  for (char *p = path + 1; rc == 0; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        rc = -1;
      }
      *p = c;
      if (c == '\0') {
        break;
      }
    }
  }
  free(path);
  return rc;
}

h_result h_outbox_write_file(const char *dir, const char *name, const char *data, size_t len,
                             char **error) {
  char *tmp = h_sprintf("%s/.%s.tmp", dir, name);
  char *final = h_sprintf("%s/%s", dir, name);
  h_result r = H_OK;
  int fd = -1;
  unlink(tmp); /* a leftover of a crash keeps its mode through O_TRUNC */
  if (make_dirs(dir) != 0 ||
      (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
      fchmod(fd, 0600) != 0) {
    r = H_ERR_UNAVAILABLE;
  }
  for (size_t done = 0; r == H_OK && done < len;) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno != EINTR) {
      r = H_ERR_UNAVAILABLE;
    }
    done += n > 0 ? (size_t)n : 0;
  }
  if (fd >= 0 && close(fd) != 0) {
    r = H_ERR_UNAVAILABLE;
  }
  if (r == H_OK && rename(tmp, final) != 0) {
    r = H_ERR_UNAVAILABLE;
  }
  if (r != H_OK) {
    *error = h_sprintf("%s: %s", final, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  free(final);
  return r;
}

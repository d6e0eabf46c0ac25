/* outbox_file.c - helpers for providers: error text, the HTTP providers' client, and
 * the atomic file writer and the send of the `file` providers (var/outbox/<channel>/).
 * Messages hold personal data and one-time tokens: files are 0600 and the folders 0700,
 * whatever the umask. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "net/http_client.h"
#include "worker.h"

void h_send_errorf(struct h_send_result *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->error, sizeof(out->error), fmt, ap);
  va_end(ap);
}

/* A provider's connect timeout: its request timeout, at most 5 s. */
static int connect_timeout_ms(const struct h_config *cfg) {
  return cfg->provider_timeout_ms < 5000 ? cfg->provider_timeout_ms : 5000;
}

void *h_provider_http_open(const struct h_config *cfg) {
  return h_http_create(cfg->provider_timeout_ms, connect_timeout_ms(cfg));
}

struct h_http_multi *h_provider_multi_open(const struct h_config *cfg) {
  return h_http_multi_create(cfg->provider_timeout_ms, connect_timeout_ms(cfg),
                             cfg->worker_in_flight);
}

void h_provider_http_close(void *state) { h_http_destroy(state); }

void h_send_http_answer(struct h_send_result *out, long status, int retry_after_s,
                        const char *detail) {
  out->retry_after_s = retry_after_s;
  const char *d = detail != NULL && detail[0] != '\0' ? detail : "no detail";
  if (status >= 200 && status < 300) {
    out->status = H_SEND_OK;
  } else if (status == 408 || status == 429 || status >= 500 || status == 401 ||
             status == 403 || status < 200) {
    out->status = H_SEND_RETRY; /* 401/403: credentials to fix, not the message */
    h_send_errorf(out, "HTTP %ld: %.400s", status, d);
  } else {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "provider_rejected");
    h_send_errorf(out, "HTTP %ld: %.400s", status, d);
  }
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

bool h_outbox_send_file(const char *dir, const char *name, const char *data,
                        struct h_send_result *out) {
  char *error = NULL;
  bool written = h_outbox_write_file(dir, name, data, strlen(data), &error) == H_OK;
  if (written) {
    out->status = H_SEND_OK;
  } else {
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "%s", error);
  }
  free(error);
  return written;
}

bool h_outbox_send_json(const char *dir, const struct h_job *job, const json_t *doc,
                        struct h_send_result *out) {
  char *data = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
  char name[64];
  snprintf(name, sizeof(name), "%s.json", job->id);
  bool written = h_outbox_send_file(dir, name, data, out);
  if (written) {
    snprintf(out->message_id, sizeof(out->message_id), "file:%s", job->id);
  }
  free(data);
  return written;
}

/* fake_stripe_ctl.c - the fake Stripe as a child process of the test. */
#include "fake_stripe_ctl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"

#ifndef HERALD_FAKE_STRIPE
#error "HERALD_FAKE_STRIPE must name tests/fakes/fake_stripe.py"
#endif

/* Reads the port the fake wrote, waiting up to 10 s. */
static int wait_port(const char *file, pid_t pid) {
  for (int i = 0; i < 200; i++) {
    FILE *fp = fopen(file, "r");
    int port = 0;
    if (fp != NULL) {
      if (fscanf(fp, "%d", &port) != 1) {
        port = 0;
      }
      fclose(fp);
    }
    if (port > 0) {
      return port;
    }
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      fail_msg("fake_stripe.py exited before listening");
    }
    usleep(50 * 1000);
  }
  fail_msg("fake_stripe.py did not start within 10 s");
  return 0;
}

void fs_start(struct fs_fake *f) {
  char file[64];
  snprintf(file, sizeof(file), "/tmp/herald-fake-stripe-%d.port", (int)getpid());
  unlink(file);
  f->pid = fork();
  if (f->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test program */
    execl("/usr/bin/python3", "python3", HERALD_FAKE_STRIPE, "--port", "0", "--port-file", file,
          "--quiet", (char *)NULL);
    _exit(127);
  }
  int port = wait_port(file, f->pid);
  unlink(file);
  snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", port);
  setenv("HERALD_STRIPE_API_BASE", f->base, 1);
  setenv("HERALD_STRIPE_SECRET_KEY", "sk_test_herald", 1);
  setenv("HERALD_STRIPE_WEBHOOK_SECRET", FS_WEBHOOK_SECRET, 1);
}

void fs_stop(struct fs_fake *f) {
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
  }
}

struct buf {
  char *data;
  size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct buf *b = userdata;
  size_t n = size * nmemb;
  b->data = h_realloc(b->data, b->len + n + 1);
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

long fs_call(const struct fs_fake *f, const char *method, const char *path, const char *body,
             json_t **out) {
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  char url[512];
  snprintf(url, sizeof(url), "%s%s", f->base, path);
  struct buf b = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  }
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (out != NULL) {
    *out = b.data != NULL ? json_loads(b.data, 0, NULL) : NULL;
  }
  free(b.data);
  return status;
}

static long stat_of(const struct fs_fake *f, const char *group, const char *name) {
  json_t *s = NULL;
  assert_int_equal(fs_call(f, "GET", "/_fake/stats", NULL, &s), 200);
  long n = (long)json_integer_value(json_object_get(json_object_get(s, group), name));
  json_decref(s);
  return n;
}

long fs_calls(const struct fs_fake *f, const char *name) { return stat_of(f, "calls", name); }
long fs_created(const struct fs_fake *f, const char *kind) { return stat_of(f, "created", kind); }

void fs_inject(const struct fs_fake *f, const char *method, const char *path, const char *error,
               int count, double delay_s) {
  char *body = h_sprintf("{\"method\":\"%s\",\"path\":\"%s\",\"error\":\"%s\",\"count\":%d,"
                         "\"delay_s\":%.3f}",
                         method, path, error, count, delay_s);
  assert_int_equal(fs_call(f, "POST", "/_fake/inject", body, NULL), 200);
  free(body);
}

void fs_webhooks(const struct fs_fake *f, const struct th_server *s, int automatic) {
  char *body = h_sprintf("{\"url\":\"%s/api/v1/webhooks/stripe\",\"secret\":\"%s\",\"auto\":%s}",
                         s->base, FS_WEBHOOK_SECRET, automatic ? "true" : "false");
  assert_int_equal(fs_call(f, "POST", "/_fake/webhooks", body, NULL), 200);
  free(body);
}

json_t *fs_events(const struct fs_fake *f, const char *object_id, const char *type) {
  char path[512];
  snprintf(path, sizeof(path), "/_fake/events?object=%s%s%s", object_id,
           type != NULL ? "&type=" : "", type != NULL ? type : "");
  json_t *out = NULL;
  assert_int_equal(fs_call(f, "GET", path, NULL, &out), 200);
  json_t *data = json_incref(json_object_get(out, "data"));
  json_decref(out);
  return data;
}

const char *fs_event_id(const struct fs_fake *f, const char *object_id, const char *type) {
  static char id[128];
  json_t *events = fs_events(f, object_id, type);
  const char *v = json_string_value(json_object_get(json_array_get(events, 0), "id"));
  if (v == NULL) {
    fail_msg("no %s event for %s", type, object_id);
  }
  snprintf(id, sizeof(id), "%s", v);
  json_decref(events);
  return id;
}

json_t *fs_deliver(const struct fs_fake *f, const char *const *ids, size_t n,
                   const char *options) {
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(list, json_string(ids[i]));
  }
  char *ids_text = json_dumps(list, JSON_COMPACT);
  char *body = h_sprintf("{\"ids\":%s%s%s}", ids_text, options != NULL ? "," : "",
                         options != NULL ? options : "");
  json_t *out = NULL;
  assert_int_equal(fs_call(f, "POST", "/_fake/events/deliver", body, &out), 200);
  json_t *deliveries = json_incref(json_object_get(out, "deliveries"));
  json_decref(out);
  free(body);
  free(ids_text);
  json_decref(list);
  return deliveries;
}

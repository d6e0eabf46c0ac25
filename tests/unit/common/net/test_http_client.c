/* Unit: the HTTP client's pure helpers (Retry-After, form encoding), its body bound
 * against a one-shot server on loopback, and several requests at once (h_http_send_all)
 * against a loopback server that counts the requests it holds open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/http_client.h"

static const time_t now = 1767225600; /* Thu, 01 Jan 2026 00:00:00 GMT */

static void test_retry_after_seconds(void **state) {
  (void)state;
  assert_int_equal(h_http_parse_retry_after("120", now), 120);
  assert_int_equal(h_http_parse_retry_after(" 5\r\n", now), 5);
  assert_int_equal(h_http_parse_retry_after("\t7 ", now), 7);
  assert_int_equal(h_http_parse_retry_after("0", now), 0);
  assert_int_equal(h_http_parse_retry_after("007", now), 7);
  assert_int_equal(h_http_parse_retry_after("604800", now), H_HTTP_RETRY_AFTER_MAX);
}

static void test_retry_after_huge(void **state) {
  (void)state;
  assert_int_equal(h_http_parse_retry_after("604801", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("99999999", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("2147483648", now), H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("99999999999999999999999999999999", now),
                   H_HTTP_RETRY_AFTER_MAX);
  assert_int_equal(h_http_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
                   H_HTTP_RETRY_AFTER_MAX);
}

static void test_retry_after_dates(void **state) {
  (void)state;
  /* IMF-fixdate */
  assert_int_equal(h_http_parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT\r\n", now), 30);
  assert_int_equal(h_http_parse_retry_after("Fri, 02 Jan 2026 00:00:00 GMT", now), 86400);
  /* the obsolete forms: RFC 850 (two-digit year) and asctime */
  assert_int_equal(h_http_parse_retry_after("Thursday, 01-Jan-26 00:01:00 GMT", now), 60);
  assert_int_equal(h_http_parse_retry_after("Thu Jan  1 00:02:00 2026", now), 120);
  assert_int_equal(h_http_parse_retry_after("Sat Jan 10 00:00:00 2026", now),
                   H_HTTP_RETRY_AFTER_MAX);
  /* in the past (or now): retry at once */
  assert_int_equal(h_http_parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 0);
  assert_int_equal(h_http_parse_retry_after("Sun Nov  6 08:49:37 1994", now), 0);
}

static void test_retry_after_garbage(void **state) {
  (void)state;
  const char *bad[] = {
    "", "  ", "abc", "-1", "+5", "12abc", "1.5", "5 s", "0x10",
    "Thu, 01 Jan 2026 00:00:30", "Thu, 01 Jan 2026 00:00:30 UTC",
    "Thu, 1 Jan 2026 00:00:30 GMT", "Thu, 01 jan 2026 00:00:30 GMT",
    "Thu, 01 Foo 2026 00:00:30 GMT", "Thu, 01 Jan 2026 25:00:30 GMT",
    "Thu, 00 Jan 2026 00:00:30 GMT", "Thu, 01 Jan 2026 00:00:30 GMT x",
    "Thu 01-Jan-26 00:01:00 GMT", "Thu Jan 1 00:02:00 2026",
    "Thursday, 01 Jan 2026 00:00:30 GMT, and more text that runs past the buffer",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(h_http_parse_retry_after(bad[i], now), -1);
  }
}

static void test_form(void **state) {
  (void)state;
  const char *pairs[] = {"To", "+14155550123", "Body", "a b&c=d caf\xc3\xa9", "Skipped", NULL,
                         "From", "MG~x_y.z-", NULL};
  char *form = h_http_form_encode(pairs);
  assert_string_equal(form,
                      "To=%2B14155550123&Body=a%20b%26c%3Dd%20caf%C3%A9&From=MG~x_y.z-");
  free(form);
  const char *none[] = {NULL};
  form = h_http_form_encode(none);
  assert_string_equal(form, "");
  free(form);
}

/* A server that answers one request with a body of body_len bytes. */
struct one_shot {
  int fd;
  size_t body_len;
};

static void *serve_once(void *arg) {
  struct one_shot *o = arg;
  int c = accept(o->fd, NULL, NULL);
  char buf[4096];
  (void)!read(c, buf, sizeof(buf)); /* the request: small, one read */
  char head[128];
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   o->body_len);
  (void)!write(c, head, (size_t)n);
  static char chunk[65536];
  memset(chunk, 'x', sizeof(chunk));
  for (size_t sent = 0; sent < o->body_len;) {
    size_t k = o->body_len - sent < sizeof(chunk) ? o->body_len - sent : sizeof(chunk);
    ssize_t w = write(c, chunk, k);
    if (w <= 0) {
      break; /* the client hung up: what the bound does */
    }
    sent += (size_t)w;
  }
  close(c);
  return NULL;
}

/* GET of a body of body_len bytes from a one-shot loopback server into out. */
static h_result fetch(size_t body_len, struct h_http_response *out) {
  struct one_shot o = {socket(AF_INET, SOCK_STREAM, 0), body_len};
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  assert_int_equal(bind(o.fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(o.fd, 1), 0);
  getsockname(o.fd, (struct sockaddr *)&a, &len);
  pthread_t t;
  pthread_create(&t, NULL, serve_once, &o);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", ntohs(a.sin_port));
  struct h_http *h = h_http_create(10000, 2000);
  struct h_http_request rq = {.method = "GET", .url = url};
  h_result r = h_http_send(h, &rq, out);
  h_http_destroy(h);
  pthread_join(t, NULL);
  close(o.fd);
  return r;
}

static void test_body_is_bounded(void **state) {
  (void)state;
  struct h_http_response out = {0};
  assert_int_equal(fetch(1000, &out), H_OK);
  assert_int_equal(out.status, 200);
  assert_int_equal(out.body_len, 1000);
  h_http_response_free(&out);
  memset(&out, 0, sizeof(out));
  assert_int_equal(fetch(H_HTTP_MAX_BODY + 1, &out), H_ERR_UNAVAILABLE);
  assert_true(out.body_len <= H_HTTP_MAX_BODY);
  h_http_response_free(&out);
}

/* ---- several at once ---- */

/* A server that answers GET /<status>/<i> with that status and the body "<i>", holding
 * each answer until want requests are open at once (or a second has passed), and counts
 * the most it had open together. */
struct many_server {
  int fd;
  int nconn;
  int want;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open, max_open;
};

struct many_conn {
  struct many_server *s;
  int c;
};

static void *serve_conn(void *arg) {
  struct many_conn *mc = arg;
  struct many_server *s = mc->s;
  char buf[4096];
  ssize_t n = read(mc->c, buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = '\0';
  int status = 500, i = -1;
  (void)sscanf(buf, "GET /%d/%d ", &status, &i);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 1;
  pthread_mutex_lock(&s->mu);
  s->open++;
  s->max_open = s->open > s->max_open ? s->open : s->max_open;
  pthread_cond_broadcast(&s->cv);
  while (s->open < s->want &&
         pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == 0) {
  }
  s->open--; /* before the answer: the client starts its next request after reading it */
  pthread_mutex_unlock(&s->mu);
  char out[256];
  int len = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d X\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n%d",
                     status, snprintf(NULL, 0, "%d", i),
                     status == 503 ? "Retry-After: 7\r\n" : "", i);
  (void)!write(mc->c, out, (size_t)len);
  close(mc->c);
  free(mc);
  return NULL;
}

static void *serve_many(void *arg) {
  struct many_server *s = arg;
  pthread_t *t = calloc((size_t)s->nconn, sizeof(*t));
  for (int k = 0; k < s->nconn; k++) {
    struct many_conn *mc = malloc(sizeof(*mc));
    mc->s = s;
    mc->c = accept(s->fd, NULL, NULL);
    pthread_create(&t[k], NULL, serve_conn, mc);
  }
  for (int k = 0; k < s->nconn; k++) {
    pthread_join(t[k], NULL);
  }
  free(t);
  return NULL;
}

/* A loopback listener's port (fd receives the socket; listening when listen_too). */
static int loopback_port(int *fd, bool listen_too) {
  *fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
  if (listen_too) {
    assert_int_equal(listen(*fd, 16), 0);
  }
  getsockname(*fd, (struct sockaddr *)&a, &len);
  return ntohs(a.sin_port);
}

/* Seven requests, three at a time: the server has three open at once, never more; each
 * answer lands at its own index with its own status and Retry-After; an eighth to a port
 * nobody listens on fails alone; the handle is used again for a second call. */
static void test_send_all(void **state) {
  (void)state;
  struct many_server s = {.nconn = 7, .want = 3, .mu = PTHREAD_MUTEX_INITIALIZER,
                          .cv = PTHREAD_COND_INITIALIZER};
  int port = loopback_port(&s.fd, true);
  int closed_fd;
  int closed = loopback_port(&closed_fd, false); /* bound, not listening: refused */
  pthread_t t;
  pthread_create(&t, NULL, serve_many, &s);
  static const int statuses[] = {200, 404, 503, 200, 201, 200, 429};
  char urls[8][64];
  struct h_http_request rq[8];
  for (int i = 0; i < 8; i++) {
    snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/%d/%d", i < 7 ? port : closed,
             i < 7 ? statuses[i] : 200, i);
    rq[i] = (struct h_http_request){.method = "GET", .url = urls[i]};
  }
  struct h_http_multi *m = h_http_multi_create(10000, 2000, 3);
  assert_int_equal(h_http_multi_parallel(m), 3);
  struct h_http_response out[8];
  h_result res[8];
  h_http_send_all(m, rq, 8, out, res);
  pthread_join(t, NULL);
  for (int i = 0; i < 7; i++) {
    char want[8];
    snprintf(want, sizeof(want), "%d", i);
    assert_int_equal(res[i], H_OK);
    assert_int_equal(out[i].status, statuses[i]);
    assert_string_equal(out[i].body, want);
    assert_int_equal(out[i].retry_after_s, statuses[i] == 503 ? 7 : -1);
    assert_true(out[i].elapsed_ms > 0);
    h_http_response_free(&out[i]);
  }
  assert_int_equal(res[7], H_ERR_UNAVAILABLE);
  assert_int_equal(out[7].status, 0);
  assert_true(out[7].error[0] != '\0');
  h_http_response_free(&out[7]);
  assert_int_equal(s.max_open, 3);

  /* the same handle again, one request: a fresh answer, nothing left of the last call */
  s.nconn = 1;
  s.want = 1;
  s.max_open = 0;
  pthread_create(&t, NULL, serve_many, &s);
  h_http_send_all(m, rq + 2, 1, out, res);
  pthread_join(t, NULL);
  assert_int_equal(res[0], H_OK);
  assert_int_equal(out[0].status, 503);
  assert_string_equal(out[0].body, "2");
  h_http_response_free(&out[0]);
  h_http_send_all(m, rq, 0, out, res); /* nothing to send: returns at once */
  h_http_multi_destroy(m);
  close(s.fd);
  close(closed_fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_retry_after_seconds),
    cmocka_unit_test(test_retry_after_huge),
    cmocka_unit_test(test_retry_after_dates),
    cmocka_unit_test(test_retry_after_garbage),
    cmocka_unit_test(test_form),
    cmocka_unit_test(test_body_is_bounded),
    cmocka_unit_test(test_send_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

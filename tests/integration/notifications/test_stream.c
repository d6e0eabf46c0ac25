/* Integration: GET /api/v1/notifications/stream and POST /api/v1/notifications/stream-tickets
 * through real HTTP, with an SSE client (tests/fixtures/sse_client.h):
 *   - a fresh stream starts with retry and unread_count, then carries created, updated and
 *     unread_count events in id order, and heartbeats;
 *   - a client that disconnects, misses notifications and resumes with Last-Event-ID (header
 *     or ?last_event_id=) gets exactly the missed ones, in order, then the live ones;
 *   - a notification committed by one API process reaches a stream held by another, and so
 *     does a bulk send fanned out in the background, and a scheduled one once it falls due;
 *   - tickets work once, not after expiry, not when malformed; bad input is refused;
 *   - revoking the session ends the stream with session.expired;
 *   - a Last-Event-ID beyond HERALD_STREAM_REPLAY_WINDOW changes, or never handed out, gets
 *     stream.reset at the head of the feed;
 *   - a client too slow for HERALD_STREAM_BUFFER_BYTES gets stream.overflow and is closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notif_support.h"
#include "sse_client.h"

static struct th_server a, b;
static char *admin;

static int setup(void **state) {
  (void)state;
  setenv("HERALD_JWT_SECRET", "stream-test-secret-stream-test-secret-0123456789", 1);
  setenv("HERALD_STREAM_HEARTBEAT_S", "1", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "1", 1); /* scheduled in-app notifications fall due */
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  th_start(&a);
  th_start(&b); /* a second API process (same database, Redis and signing key) */
  admin = th_admin_token(&a, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&b);
  th_stop(&a);
  return 0;
}

static unsigned int port_of(const struct th_server *s) { return h_server_port(s->server); }

/* Opens the stream on s as token (NULL: none) with one more header line (may be NULL). */
static void open_stream(struct sse_client *c, const struct th_server *s, const char *path,
                        const char *token, const char *extra) {
  char auth[1024];
  const char *headers[3] = {NULL, NULL, NULL};
  int n = 0;
  if (token != NULL) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    headers[n++] = auth;
  }
  headers[n] = extra;
  assert_true(sse_open(c, port_of(s), path, headers));
}

/* One in-app notification to user through s, sent as the admin; its id (caller frees). */
static char *send_to(const struct th_server *s, const char *user, const char *title) {
  return ns_send_in_app(s, admin, user, title);
}

/* The next event named name within 3 s (others skipped); fails the test otherwise. */
static void expect_event(struct sse_client *c, const char *name, struct sse_event *ev) {
  for (;;) {
    if (!sse_next(c, ev, 3000)) {
      fail_msg("no %s event (eof=%d)", name, c->eof);
    }
    if (strcmp(ev->event, name) == 0) {
      return;
    }
    sse_event_free(ev);
  }
}

/* The next notification.created: asserts its data.id is want and its id is above *last,
 * which it advances. */
static void expect_created(struct sse_client *c, const char *want, long long *last) {
  struct sse_event ev;
  expect_event(c, "notification.created", &ev);
  json_t *d = json_loads(ev.data, 0, NULL);
  assert_non_null(d);
  assert_string_equal(th_str(d, "id"), want);
  assert_string_equal(th_str(d, "object"), "notification");
  long long id = atoll(ev.id);
  assert_true(id > *last);
  *last = id;
  json_decref(d);
  sse_event_free(&ev);
}

/* No notification.* event arrives within ms. */
static void expect_no_change(struct sse_client *c, int ms) {
  struct sse_event ev;
  while (sse_next(c, &ev, ms)) {
    if (strncmp(ev.event, "notification.", 13) == 0) {
      fail_msg("unexpected %s id %s: %s", ev.event, ev.id, ev.data);
    }
    sse_event_free(&ev);
  }
}

static long unread_of(struct sse_event *ev) {
  json_t *d = json_loads(ev->data, 0, NULL);
  long n = (long)json_integer_value(json_object_get(d, "unread"));
  json_decref(d);
  return n;
}

static void test_fresh_stream_live_events(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-live", NULL, user);
  struct sse_client c;
  open_stream(&c, &a, "/api/v1/notifications/stream", token, NULL);
  assert_int_equal(c.status, 200);
  struct sse_event ev;
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(c.retry_ms, 3000);
  assert_int_equal(unread_of(&ev), 0);
  sse_event_free(&ev);

  long long last = -1;
  char *n1 = send_to(&a, user, "one");
  expect_created(&c, n1, &last);
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 1);
  assert_int_equal(atoll(ev.id), last);
  sse_event_free(&ev);
  char *n2 = send_to(&a, user, "two");
  expect_created(&c, n2, &last);

  char path[128];
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/notifications/%s/read", n1);
  th_call(&a, token, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  expect_event(&c, "notification.updated", &ev);
  json_t *d = json_loads(ev.data, 0, NULL);
  assert_string_equal(th_str(d, "id"), n1);
  assert_true(json_is_true(json_object_get(d, "read")));
  assert_true(json_is_false(json_object_get(d, "deleted")));
  assert_true(atoll(ev.id) > last);
  last = atoll(ev.id);
  json_decref(d);
  sse_event_free(&ev);

  snprintf(path, sizeof(path), "/api/v1/notifications/%s", n2);
  th_call(&a, token, "DELETE", path, NULL, NULL, &r);
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  expect_event(&c, "notification.updated", &ev);
  d = json_loads(ev.data, 0, NULL);
  assert_string_equal(th_str(d, "id"), n2);
  assert_true(json_is_true(json_object_get(d, "deleted")));
  json_decref(d);
  sse_event_free(&ev);
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 0);
  sse_event_free(&ev);

  int before = c.comments; /* HERALD_STREAM_HEARTBEAT_S=1 */
  expect_no_change(&c, 2500);
  assert_true(c.comments > before);
  sse_close(&c);
  free(n1);
  free(n2);
  free(token);
}

static void test_resume_gets_exactly_the_missed(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-resume", NULL, user);
  struct sse_client c;
  open_stream(&c, &a, "/api/v1/notifications/stream", token, NULL);
  long long last = -1;
  char *first = send_to(&a, user, "before");
  expect_created(&c, first, &last);
  sse_close(&c);

  char *missed[3];
  for (int i = 0; i < 3; i++) {
    missed[i] = send_to(&a, user, "missed");
  }
  char header[64];
  snprintf(header, sizeof(header), "Last-Event-ID: %lld", last);
  open_stream(&c, &b, "/api/v1/notifications/stream", token, header);
  assert_int_equal(c.status, 200);
  for (int i = 0; i < 3; i++) {
    expect_created(&c, missed[i], &last);
  }
  struct sse_event ev;
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 4);
  assert_int_equal(atoll(ev.id), last);
  sse_event_free(&ev);
  expect_no_change(&c, 1000); /* nothing twice */
  char *live = send_to(&a, user, "live");
  expect_created(&c, live, &last);
  sse_close(&c);

  /* the query form, already up to date: nothing replayed */
  char path[128];
  snprintf(path, sizeof(path), "/api/v1/notifications/stream?last_event_id=%lld", last);
  open_stream(&c, &a, path, token, NULL);
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 5);
  sse_event_free(&ev);
  expect_no_change(&c, 1000);
  sse_close(&c);

  /* an id the feed never reached: start over */
  open_stream(&c, &a, "/api/v1/notifications/stream", token, "Last-Event-ID: 999999999999");
  expect_event(&c, "stream.reset", &ev);
  assert_non_null(strstr(ev.data, "unknown_event_id"));
  assert_int_equal(atoll(ev.id), last);
  sse_event_free(&ev);
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 5);
  sse_event_free(&ev);
  sse_close(&c);
  for (int i = 0; i < 3; i++) {
    free(missed[i]);
  }
  free(first);
  free(live);
  free(token);
}

static void test_fanout_across_processes(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-fanout", NULL, user);
  struct sse_client ca, cb;
  open_stream(&ca, &a, "/api/v1/notifications/stream", token, NULL);
  open_stream(&cb, &b, "/api/v1/notifications/stream", token, NULL);
  long long la = -1, lb = -1;
  char *n1 = send_to(&a, user, "from a");
  expect_created(&cb, n1, &lb);
  expect_created(&ca, n1, &la);
  char *n2 = send_to(&b, user, "from b");
  expect_created(&ca, n2, &la);
  expect_created(&cb, n2, &lb);
  assert_true(la == lb);
  sse_close(&ca);
  sse_close(&cb);
  free(n1);
  free(n2);
  free(token);
}

#define WRITERS 8
#define PER_WRITER 10

struct writer {
  const char *user;
};

static void *write_many(void *arg) {
  const struct writer *w = arg;
  for (int i = 0; i < PER_WRITER; i++) {
    free(send_to(&a, w->user, "burst"));
  }
  return NULL;
}

/* Concurrent writers for one user (several group-commit batches in flight): the stream sees
 * every notification once, ids increasing, and a resume from the middle gets exactly the rest
 * (the feed lock orders a user's event_seq by commit). */
static void test_concurrent_writers_no_gap(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-burst", NULL, user);
  struct sse_client c;
  open_stream(&c, &b, "/api/v1/notifications/stream", token, NULL);
  pthread_t t[WRITERS];
  struct writer w = {user};
  for (int i = 0; i < WRITERS; i++) {
    pthread_create(&t[i], NULL, write_many, &w);
  }
  long long ids[WRITERS * PER_WRITER];
  long long last = -1;
  for (int i = 0; i < WRITERS * PER_WRITER; i++) {
    struct sse_event ev;
    expect_event(&c, "notification.created", &ev);
    ids[i] = atoll(ev.id);
    assert_true(ids[i] > last);
    last = ids[i];
    sse_event_free(&ev);
  }
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(t[i], NULL);
  }
  expect_no_change(&c, 500);
  sse_close(&c);
  char header[64];
  int half = WRITERS * PER_WRITER / 2;
  snprintf(header, sizeof(header), "Last-Event-ID: %lld", ids[half - 1]);
  open_stream(&c, &a, "/api/v1/notifications/stream", token, header);
  for (int i = half; i < WRITERS * PER_WRITER; i++) {
    struct sse_event ev;
    expect_event(&c, "notification.created", &ev);
    assert_int_equal(atoll(ev.id), ids[i]);
    sse_event_free(&ev);
  }
  expect_no_change(&c, 500);
  sse_close(&c);
  free(token);
}

static void test_bulk_send_reaches_stream(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-bulk", NULL, user);
  struct sse_client c;
  open_stream(&c, &b, "/api/v1/notifications/stream", token, NULL);
  char body[256];
  snprintf(body, sizeof(body),
           "{\"user_ids\":[\"%s\"],\"category\":\"bulk-stream\",\"body\":\"all\","
           "\"channels\":[\"in_app\"]}",
           user);
  struct th_response r;
  th_call(&a, admin, "POST", "/api/v1/notifications/bulk", body, NULL, &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
  struct sse_event ev; /* fanned out by a background thread of either process */
  expect_event(&c, "notification.created", &ev);
  assert_non_null(strstr(ev.data, "\"category\":\"bulk-stream\""));
  sse_event_free(&ev);
  sse_close(&c);
  free(token);
}

static void test_scheduled_arrives_when_due(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-due", NULL, user);
  struct sse_client c;
  open_stream(&c, &b, "/api/v1/notifications/stream", token, NULL);
  char when[32];
  th_iso(time(NULL) + 3, when);
  json_t *n = ns_send(&a, admin,
                      "{\"user_id\":\"%s\",\"category\":\"test\",\"title\":\"later\","
                      "\"body\":\"due soon\",\"channels\":[\"in_app\"],\"send_at\":\"%s\"}",
                      user, when);
  char *id = strdup(th_str(n, "id"));
  json_decref(n);
  long long last = -1;
  char *now = send_to(&a, user, "now"); /* the stream's position passes the scheduled row's */
  expect_created(&c, now, &last);
  expect_no_change(&c, 1000); /* not in the feed yet */
  expect_created(&c, id, &last); /* due: the sweeper marked it sent, it got a new event_seq */
  struct sse_event ev;
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 2);
  sse_event_free(&ev);
  sse_close(&c);
  free(now);
  free(id);
  free(token);
}

static void test_tickets(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-ticket", NULL, user);
  struct th_response r;
  th_call(&a, token, "POST", "/api/v1/notifications/stream-tickets", NULL, NULL, &r);
  assert_int_equal(r.status, 201);
  const char *ticket = th_str(r.json, "ticket");
  assert_non_null(ticket);
  assert_non_null(th_str(r.json, "expires_at"));
  char url[256];
  snprintf(url, sizeof(url), "/api/v1/notifications/stream?ticket=%s", ticket);
  assert_string_equal(th_str(r.json, "url"), url);
  th_response_free(&r);

  struct sse_client c;
  open_stream(&c, &b, url, NULL, NULL); /* redeemed by the other process */
  assert_int_equal(c.status, 200);
  long long last = -1;
  char *n1 = send_to(&a, user, "ticket");
  expect_created(&c, n1, &last);
  sse_close(&c);

  th_call(&a, NULL, "GET", url, NULL, NULL, &r); /* used */
  th_assert_error(&r, 401, "invalid_ticket");
  th_response_free(&r);
  th_call(&a, NULL, "GET", "/api/v1/notifications/stream?ticket=abc", NULL, NULL, &r);
  th_assert_error(&r, 401, "invalid_ticket");
  th_response_free(&r);
  th_call(&a, NULL, "GET",
          "/api/v1/notifications/stream?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          NULL, NULL, &r); /* well formed, never issued */
  th_assert_error(&r, 401, "invalid_ticket");
  th_response_free(&r);

  th_call(&a, token, "POST", "/api/v1/notifications/stream-tickets", NULL, NULL, &r);
  assert_int_equal(r.status, 201);
  snprintf(url, sizeof(url), "/api/v1/notifications/stream?ticket=%s", th_str(r.json, "ticket"));
  th_response_free(&r);
  th_redis_del_keys("herald:stream:ticket:*"); /* what its expiry does */
  th_call(&a, NULL, "GET", url, NULL, NULL, &r);
  th_assert_error(&r, 401, "invalid_ticket");
  th_response_free(&r);

  th_call(&a, NULL, "POST", "/api/v1/notifications/stream-tickets", NULL, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);
  free(n1);
  free(token);
}

static void test_bad_input(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-bad", NULL, user);
  struct th_response r;
  th_call(&a, NULL, "GET", "/api/v1/notifications/stream", NULL, NULL, &r);
  th_assert_error(&r, 401, "missing_token");
  th_response_free(&r);
  th_call(&a, "not-a-token", "GET", "/api/v1/notifications/stream", NULL, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  static const char *const bad[] = {"Last-Event-ID: x1", "Last-Event-ID: -5",
                                    "Last-Event-ID: 99999999999999999999", "Last-Event-ID: 1.5"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    th_call(&a, token, "GET", "/api/v1/notifications/stream", NULL, bad[i], &r);
    th_assert_error(&r, 400, "invalid_last_event_id");
    th_response_free(&r);
  }
  th_call(&a, token, "GET", "/api/v1/notifications/stream?last_event_id=abc", NULL, NULL, &r);
  th_assert_error(&r, 400, "invalid_last_event_id");
  th_response_free(&r);
  th_call(&a, admin, "POST", "/api/v1/notifications/stream", NULL, NULL, &r);
  assert_int_equal(r.status, 405);
  th_response_free(&r);
  free(token);
}

static void test_revoked_session_ends_stream(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "stream-revoke", NULL, user);
  struct sse_client c;
  open_stream(&c, &b, "/api/v1/notifications/stream", token, NULL);
  struct sse_event ev;
  expect_event(&c, "unread_count", &ev);
  sse_event_free(&ev);
  struct th_response r;
  th_call(&a, token, "DELETE", "/api/v1/users/me/sessions", NULL, NULL, &r); /* on the other */
  assert_int_equal(r.status, 204);
  th_response_free(&r);
  expect_event(&c, "session.expired", &ev);
  assert_non_null(strstr(ev.data, "session_revoked"));
  sse_event_free(&ev);
  assert_true(sse_wait_eof(&c, 3000));
  sse_close(&c);
  th_call(&b, NULL, "GET", "/metrics", NULL, NULL, &r); /* counted on the process that held it */
  assert_int_equal(r.status, 200);
  const char *ended = strstr(r.body, "herald_streams_ended_total{reason=\"session_expired\"} ");
  assert_non_null(ended);
  assert_true(atol(strchr(ended, ' ') + 1) >= 1);
  assert_non_null(strstr(r.body, "herald_streams_open "));
  th_response_free(&r);
  th_call(&a, token, "GET", "/api/v1/notifications/stream", NULL, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  free(token);
}

static void test_replay_window_reset(void **state) {
  (void)state;
  struct th_server small;
  setenv("HERALD_STREAM_REPLAY_WINDOW", "2", 1);
  th_start(&small);
  unsetenv("HERALD_STREAM_REPLAY_WINDOW");
  char user[37];
  char *token = th_user(&small, "stream-window", NULL, user);
  char *ids[4];
  for (int i = 0; i < 4; i++) {
    ids[i] = send_to(&small, user, "window");
  }
  long long head = th_sql_long("SELECT max(event_seq) FROM notifications WHERE user_id = $1",
                               user);
  struct sse_client c; /* 4 changes after 0, the window is 2: start over at the head */
  assert_true(sse_open(&c, port_of(&small), "/api/v1/notifications/stream",
                       (const char *const[]){th_bearer(token), "Last-Event-ID: 0", NULL}));
  struct sse_event ev;
  expect_event(&c, "stream.reset", &ev);
  assert_non_null(strstr(ev.data, "replay_window"));
  assert_int_equal(atoll(ev.id), head);
  sse_event_free(&ev);
  expect_event(&c, "unread_count", &ev);
  assert_int_equal(unread_of(&ev), 4);
  sse_event_free(&ev);
  long long last = head;
  char *live = send_to(&small, user, "after the reset");
  expect_created(&c, live, &last);
  sse_close(&c);
  /* within the window: replayed */
  char header[64];
  snprintf(header, sizeof(header), "Last-Event-ID: %lld", head - 1);
  assert_true(sse_open(&c, port_of(&small), "/api/v1/notifications/stream",
                       (const char *const[]){th_bearer(token), header, NULL}));
  last = head - 1;
  expect_created(&c, ids[3], &last);
  expect_created(&c, live, &last);
  sse_close(&c);
  for (int i = 0; i < 4; i++) {
    free(ids[i]);
  }
  free(live);
  free(token);
  th_stop(&small);
}

static void test_slow_client_overflow(void **state) {
  (void)state;
  struct th_server small;
  setenv("HERALD_STREAM_BUFFER_BYTES", "1024", 1);
  th_start(&small);
  unsetenv("HERALD_STREAM_BUFFER_BYTES");
  char user[37];
  char *token = th_user(&small, "stream-slow", NULL, user);
  char big[2100];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  json_t *n = ns_send(&small, admin,
                      "{\"user_id\":\"%s\",\"category\":\"test\",\"title\":\"big\","
                      "\"body\":\"%s\",\"channels\":[\"in_app\"]}",
                      user, big);
  json_decref(n);
  struct sse_client c; /* the replay holds more than the 1 KB the server may queue */
  assert_true(sse_open(&c, port_of(&small), "/api/v1/notifications/stream",
                       (const char *const[]){th_bearer(token), "Last-Event-ID: 0", NULL}));
  struct sse_event ev;
  expect_event(&c, "stream.overflow", &ev);
  assert_non_null(strstr(ev.data, "slow_client"));
  sse_event_free(&ev);
  assert_true(sse_wait_eof(&c, 3000));
  sse_close(&c);
  free(token);
  th_stop(&small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fresh_stream_live_events),
    cmocka_unit_test(test_resume_gets_exactly_the_missed),
    cmocka_unit_test(test_fanout_across_processes),
    cmocka_unit_test(test_concurrent_writers_no_gap),
    cmocka_unit_test(test_bulk_send_reaches_stream),
    cmocka_unit_test(test_scheduled_arrives_when_due),
    cmocka_unit_test(test_tickets),
    cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_revoked_session_ends_stream),
    cmocka_unit_test(test_replay_window_reset),
    cmocka_unit_test(test_slow_client_overflow),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

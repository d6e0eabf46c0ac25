/* Integration: the feed's first page from the API process's copy (common/inbox/feed_service.h).
 * Two API processes on one database and one Redis, copies kept for ten minutes and the
 * sweeper off, so a change only shows through a stream notice (or the writer dropping its own
 * copy) or the copy's end at a scheduled notification's due time:
 *   - a change made by hand in SQL (no notice) is not seen: the copy is served; a send, a
 *     read, a delete through either process reaches both, the writer's own at once;
 *   - page sizes and ?unread=true are kept apart; pages after a cursor and filtered pages
 *     are never copies;
 *   - a copy ends when the user's next scheduled notification falls due;
 *   - the subscriber's connection killed, no copy is kept or served until it is back;
 *   - HERALD_FEED_CACHE_MS=0 keeps nothing and shows no series on /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notif_support.h"

static struct th_server a, b; /* both write and read */
static char *admin;

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Waits (up to 5 s) until s keeps copies: every shard's subscription confirmed. */
static void wait_online(const struct th_server *s) {
  for (int waited = 0; waited < 5000; waited += 20) {
    if (th_metric(s, "herald_feed_cache_online") == 1) {
      return;
    }
    sleep_ms(20);
  }
  fail_msg("the feed copies never went on");
}

static int setup(void **state) {
  (void)state;
  setenv("HERALD_JWT_SECRET", "feed-cache-test-secret-feed-cache-0123456789", 1);
  setenv("HERALD_FEED_CACHE_MS", "600000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1); /* no "every feed" notice for due rows */
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  th_start(&a);
  th_start(&b);
  admin = th_admin_token(&a, NULL);
  wait_online(&a);
  wait_online(&b);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(admin);
  th_stop(&b);
  th_stop(&a);
  return 0;
}

/* One in-app notification to user through s, sent as the admin; its id (caller frees). */
static char *send_to(const struct th_server *s, const char *user, const char *title) {
  return ns_send_in_app(s, admin, user, title);
}

/* GET path on s as token: 200 and the body (caller frees). */
static char *page(const struct th_server *s, const char *token, const char *path) {
  const char *h[] = {th_bearer(token), NULL};
  struct th_response r;
  th_request(s, "GET", path, h, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(th_header(&r, "Content-Type"), "application/json"));
  char *body = strdup(r.body);
  th_response_free(&r);
  return body;
}

static bool page_has(const struct th_server *s, const char *token, const char *path,
                     const char *text) {
  char *body = page(s, token, path);
  bool has = strstr(body, text) != NULL;
  free(body);
  return has;
}

/* Milliseconds until GET path on s holds text (up to 5 s), or -1. */
static long wait_has(const struct th_server *s, const char *token, const char *path,
                     const char *text) {
  for (long waited = 0; waited <= 5000; waited += 10) {
    if (page_has(s, token, path, text)) {
      return waited;
    }
    sleep_ms(10);
  }
  return -1;
}

/* Sets the title of notification id by hand: no notice is published. */
static void retitle_quietly(const char *id, const char *title) {
  char sql[256];
  snprintf(sql, sizeof(sql), "UPDATE notifications SET title = '%s' WHERE id = $1::uuid"
           " RETURNING title", title);
  char *now = th_sql_text(sql, id);
  assert_string_equal(now, title);
  free(now);
}

#define FEED "/api/v1/notifications"

/* method path on s as token, without a body; fails unless the status is want. */
static void call(const struct th_server *s, const char *token, const char *method,
                 const char *path, long want) {
  struct th_response r;
  th_call(s, token, method, path, NULL, NULL, &r);
  assert_int_equal(r.status, want);
  th_response_free(&r);
}

/* The copy is served (a change by hand is not seen) and dropped by a send on the other
 * process (the notice) and on the writer's own process before its 202. */
static void test_copy_served_and_dropped(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache", NULL, user);
  char *first = send_to(&a, user, "first");
  assert_true(page_has(&b, token, FEED, "\"title\":\"first\"")); /* b keeps a copy */
  assert_true(page_has(&a, token, FEED, "\"title\":\"first\"")); /* so does a */
  long hits = th_metric(&b, "herald_feed_cache_lookups_total{result=\"hit\"}");
  retitle_quietly(first, "changed by hand");
  char *body = page(&b, token, FEED);
  assert_non_null(strstr(body, "\"title\":\"first\"")); /* PostgreSQL was not read */
  assert_non_null(strstr(body, "\"unread_count\":1}"));
  free(body);
  assert_int_equal(th_metric(&b, "herald_feed_cache_lookups_total{result=\"hit\"}"), hits + 1);

  long drops = th_metric(&b, "herald_feed_cache_drops_total");
  char *second = send_to(&a, user, "second");
  body = page(&a, token, FEED); /* at once on the writer's process */
  assert_non_null(strstr(body, "\"title\":\"second\""));
  assert_non_null(strstr(body, "\"title\":\"changed by hand\""));
  assert_non_null(strstr(body, "\"unread_count\":2}"));
  free(body);
  assert_true(wait_has(&b, token, FEED, "\"title\":\"second\"") >= 0); /* by the notice */
  assert_true(page_has(&b, token, FEED, "\"unread_count\":2}"));
  assert_true(th_metric(&b, "herald_feed_cache_drops_total") > drops);

  /* a send through b reaches a's copy the same way */
  assert_true(page_has(&a, token, FEED, "\"title\":\"second\""));
  char *third = send_to(&b, user, "third");
  assert_true(wait_has(&a, token, FEED, "\"title\":\"third\"") >= 0);
  free(first);
  free(second);
  free(third);
  free(token);
}

/* Reading and deleting through one process reach the other's copy (the unread count too). */
static void test_read_and_delete_reach_copies(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache-read", NULL, user);
  char *id = send_to(&a, user, "to read");
  assert_true(page_has(&b, token, FEED, "\"unread_count\":1}"));
  char path[128];
  snprintf(path, sizeof(path), FEED "/%s/read", id);
  call(&a, token, "POST", path, 200);
  assert_true(page_has(&a, token, FEED, "\"unread_count\":0}"));
  assert_true(wait_has(&b, token, FEED, "\"unread_count\":0}") >= 0);
  assert_true(page_has(&b, token, FEED, "\"read\":true"));
  snprintf(path, sizeof(path), FEED "/%s", id);
  call(&b, token, "DELETE", path, 204);
  assert_true(page_has(&b, token, FEED, "\"data\":[]"));
  assert_true(wait_has(&a, token, FEED, "\"data\":[]") >= 0);
  free(id);
  free(token);
}

/* One copy per user: another page size or ?unread=true misses and replaces it; a page after
 * a cursor and a filtered page always read PostgreSQL. */
static void test_variants_and_pages_not_copied(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache-variants", NULL, user);
  char *old = send_to(&a, user, "older");
  char *mid = send_to(&a, user, "middle");
  char *recent = send_to(&a, user, "newest");
  assert_true(page_has(&b, token, FEED "?limit=1", "\"has_more\":true"));
  retitle_quietly(recent, "newest by hand");
  assert_false(page_has(&b, token, FEED "?limit=1", "newest by hand")); /* the copy */
  assert_true(page_has(&b, token, FEED "?limit=2", "newest by hand"));  /* another size */
  assert_true(page_has(&b, token, FEED "?limit=1", "newest by hand"));  /* read again */

  assert_true(page_has(&b, token, FEED "?unread=true", "\"title\":\"middle\""));
  retitle_quietly(mid, "middle by hand");
  assert_false(page_has(&b, token, FEED "?unread=true", "middle by hand"));
  assert_true(page_has(&b, token, FEED, "middle by hand")); /* the plain page is another */

  char path[160];
  snprintf(path, sizeof(path), FEED "?limit=1&starting_after=%s", mid);
  assert_true(page_has(&b, token, path, "\"title\":\"older\""));
  retitle_quietly(old, "older by hand");
  assert_true(page_has(&b, token, path, "older by hand"));
  assert_true(page_has(&b, token, FEED "?category=test", "older by hand"));
  retitle_quietly(old, "older again");
  assert_true(page_has(&b, token, FEED "?category=test", "older again"));
  free(old);
  free(mid);
  free(recent);
  free(token);
}

/* A scheduled notification joins the feed when due although no notice says so (the sweeper
 * is off): the copy read before ends at its due time. */
static void test_copy_ends_when_scheduled_falls_due(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache-due", NULL, user);
  char *now = send_to(&a, user, "now");
  char when[32];
  th_iso(time(NULL) + 3, when);
  json_t *n = ns_send(&a, admin,
                      "{\"user_id\":\"%s\",\"category\":\"test\",\"title\":\"later\","
                      "\"body\":\"due soon\",\"channels\":[\"in_app\"],\"send_at\":\"%s\"}",
                      user, when);
  json_decref(n);
  assert_true(wait_has(&b, token, FEED, "\"title\":\"now\"") >= 0);
  assert_false(page_has(&b, token, FEED, "\"title\":\"later\"")); /* not due yet */
  retitle_quietly(now, "now by hand");
  assert_false(page_has(&b, token, FEED, "now by hand")); /* the copy, until the due time */
  long waited = 0;
  while (waited < 6000 && !page_has(&b, token, FEED, "\"title\":\"later\"")) {
    sleep_ms(50);
    waited += 50;
  }
  /* not before it was due; the fine clock, as PostgreSQL's now(): time() reads a coarse one
   * that may lag a few milliseconds behind a page PostgreSQL just saw due */
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  assert_true(wall.tv_sec >= ns_epoch(when));
  char *body = page(&b, token, FEED);
  assert_non_null(strstr(body, "\"title\":\"later\""));
  assert_non_null(strstr(body, "now by hand")); /* read again from PostgreSQL */
  assert_non_null(strstr(body, "\"unread_count\":2}"));
  free(body);
  free(now);
  free(token);
}

/* Notices sent while the subscriber is away are lost: its connection killed, nothing is
 * kept or served until every subscription is confirmed again. */
static void test_subscriber_lost_keeps_nothing(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache-lost", NULL, user);
  char *id = send_to(&a, user, "before");
  assert_true(page_has(&b, token, FEED, "\"title\":\"before\""));
  const char *kill[] = {"CLIENT", "KILL", "TYPE", "pubsub"};
  assert_true(th_redis_int(4, kill) >= 2); /* a's and b's subscribers */
  retitle_quietly(id, "while away");
  assert_true(wait_has(&b, token, FEED, "while away") >= 0);
  wait_online(&b);
  assert_true(page_has(&b, token, FEED, "while away")); /* kept again */
  retitle_quietly(id, "quiet again");
  assert_false(page_has(&b, token, FEED, "quiet again"));
  char *next = send_to(&a, user, "after");
  assert_true(wait_has(&b, token, FEED, "\"title\":\"after\"") >= 0);
  assert_true(page_has(&b, token, FEED, "quiet again"));
  free(next);
  free(id);
  free(token);
}

/* HERALD_FEED_CACHE_MS=0: every page is read from PostgreSQL, no series on /metrics. */
static void test_off_reads_through(void **state) {
  (void)state;
  char user[37];
  char *token = th_user(&a, "feedcache-off", NULL, user);
  char *id = send_to(&a, user, "plain");
  setenv("HERALD_FEED_CACHE_MS", "0", 1);
  struct th_server c;
  th_start(&c);
  assert_true(page_has(&c, token, FEED, "\"title\":\"plain\""));
  retitle_quietly(id, "seen at once");
  assert_true(page_has(&c, token, FEED, "seen at once"));
  assert_int_equal(th_metric(&c, "herald_feed_cache_online"), -1);
  th_stop(&c);
  setenv("HERALD_FEED_CACHE_MS", "600000", 1);
  free(id);
  free(token);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_copy_served_and_dropped),
    cmocka_unit_test(test_read_and_delete_reach_copies),
    cmocka_unit_test(test_variants_and_pages_not_copied),
    cmocka_unit_test(test_copy_ends_when_scheduled_falls_due),
    cmocka_unit_test(test_subscriber_lost_keeps_nothing),
    cmocka_unit_test(test_off_reads_through),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

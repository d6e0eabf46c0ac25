/* feed_service.c - see feed_service.h. */
#include "inbox/feed_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/copy_cache.h"
#include "inbox/feed_repo.h"
#include "notifications/notification_service.h"
#include "store/db.h"

struct op {
  const char *user_id;
  const struct h_feed_filter *filter;
  const struct h_page *page;
  char *items; /* owned */
  bool more;
  long unread;
  long long due_ms;
};

static h_result page_run(PGconn *c, void *a) {
  struct op *o = a;
  return h_feed_repo_page(c, o->user_id, o->filter, o->page, &o->items, &o->more, &o->unread,
                          &o->due_ms);
}

/* A search page: the list h_notification_feed builds, printed. */
static h_result search_body(struct h_app *app, const char *user_id,
                            const struct h_feed_filter *f, const struct h_page *page,
                            char **body) {
  json_t *list = NULL;
  h_result r = h_notification_feed(app, user_id, f, page, &list);
  if (r == H_OK) {
    *body = json_dumps(list, JSON_COMPACT);
    r = *body != NULL ? H_OK : H_ERR_INTERNAL;
  }
  json_decref(list);
  return r;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a copy of a page read since started_ms may live: until the next scheduled
 * notification's due time, counted from before the statement began (its now() is later), so
 * the copy never outlives it; -1 (the table's life) when none waits. */
static long long copy_life(long long due_ms, long long started_ms) {
  if (due_ms < 0) {
    return -1;
  }
  long long left = due_ms - (now_ms() - started_ms);
  return left > 0 ? left : 0;
}

/* The copy's variant: the page size and whether only unread notifications are listed. */
static int variant(const struct h_feed_filter *f, const struct h_page *page) {
  return page->limit * 2 + (f->unread == 1);
}

h_result h_feed_page_body(struct h_app *app, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **body) {
  *body = NULL;
  if (f->q != NULL) {
    return search_body(app, user_id, f, page, body);
  }
  bool first = h_feed_repo_first(f, page);
  struct h_copy_ticket t = {0};
  if (first) {
    *body = h_copy_cache_get(app->feeds, user_id, variant(f, page), &t);
    if (*body != NULL) {
      return H_OK;
    }
  }
  struct op o = {.user_id = user_id, .filter = f, .page = page};
  long long started_ms = first ? now_ms() : 0;
  h_result r = h_db_run(app->db, page_run, &o);
  if (r == H_OK) {
    static const char fmt[] = "{\"object\":\"list\",\"data\":%s,\"has_more\":%s,"
                              "\"unread_count\":%ld}";
    size_t n = strlen(o.items) + sizeof(fmt) + 32;
    *body = h_malloc(n);
    int len = snprintf(*body, n, fmt, o.items, o.more ? "true" : "false", o.unread);
    if (first && len <= H_FEED_CACHE_MAX_BYTES) {
      h_copy_cache_put(app->feeds, user_id, variant(f, page), *body,
                       copy_life(o.due_ms, started_ms), &t);
    }
  }
  free(o.items);
  return r;
}

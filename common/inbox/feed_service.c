/* feed_service.c - see feed_service.h. */
#include "inbox/feed_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  h_result r = h_db_run(app->db, page_run, &o);
  if (r == H_OK) {
    static const char fmt[] = "{\"object\":\"list\",\"data\":%s,\"has_more\":%s,"
                              "\"unread_count\":%ld}";
    size_t n = strlen(o.items) + sizeof(fmt) + 32;
    *body = h_malloc(n);
    int len = snprintf(*body, n, fmt, o.items, o.more ? "true" : "false", o.unread);
    if (first && len <= H_FEED_CACHE_MAX_BYTES) {
      h_copy_cache_put(app->feeds, user_id, variant(f, page), *body, o.due_ms, &t);
    }
  }
  free(o.items);
  return r;
}

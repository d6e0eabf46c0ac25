/* feed_repo.c - see feed_repo.h. */
#include "inbox/feed_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"
#include "queue/jobs.h"

/* The page query (its rows: the limit + 1 newest matching notifications, each as the JSON
 * text of its feed columns) aggregated in the page's order into one row: the unread count,
 * how many rows there were, and their texts joined by the record separator U+001E, which JSON
 * text never holds raw (row_to_json escapes every control character). One row, so PostgreSQL
 * sends it as one message once the statement is done; the rows one by one were flushed
 * mid-statement and woke the API thread twice. No window, materialised CTE or second
 * aggregate, whose start-up was a sixth of PostgreSQL's time per page (bench/profile_reads.sh);
 * the API cuts the extra row and joins the items. */
#define PAGE_SQL(QUERY, DUE)                                                                \
  "SELECT " H_UNREAD_COUNT_SQL("$1::uuid") ", count(*), string_agg(p.item, E'\\x1e')" DUE  \
  " FROM (SELECT row_to_json(f)::text AS item FROM (" QUERY ") f) p"

/* The first pages' fourth column: in how many milliseconds (rounded down) the user's next
 * scheduled in-app notification falls due and joins the feed, NULL when none waits. Only
 * unread rows can wait (reading and archiving take visible rows only), so it is one probe of
 * notifications_unread_scheduled_idx, the index the unread count reads; a copy of the page
 * (feed_service.h) lives no longer. */
#define NEXT_DUE                                                                            \
  ", (SELECT floor(EXTRACT(EPOCH FROM min(un.send_at) - now()) * 1000)::bigint"              \
  " FROM notifications un WHERE un.user_id = $1::uuid AND un.in_app"                        \
  " AND un.deleted_at IS NULL AND un.read_at IS NULL AND un.send_at > now())"

/* The plain page's own filters: $1 user, $2 the limit + 1 (and $3 the cursor); the unread
 * page (?unread=true alone) reads notifications_unread_feed_idx the same way. */
#define PLAIN_WHERE                                                                         \
  "SELECT " H_NOTIF_FEED_COLUMNS " FROM notifications WHERE user_id = $1::uuid AND"         \
  H_NOTIF_FEED_WHERE " AND archived_at IS NULL"
#define UNREAD " AND read_at IS NULL"
#define AFTER_CURSOR                                                                        \
  " AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = $3::uuid)"
#define PLAIN_ORDER                                                                         \
  " ORDER BY notifications.created_at DESC, notifications.id DESC LIMIT $2::int"

/* [unread][after a cursor] */
static const char *const plain_sql[2][2] = {
  {PAGE_SQL(PLAIN_WHERE PLAIN_ORDER, NEXT_DUE),
   PAGE_SQL(PLAIN_WHERE AFTER_CURSOR PLAIN_ORDER, "")},
  {PAGE_SQL(PLAIN_WHERE UNREAD PLAIN_ORDER, NEXT_DUE),
   PAGE_SQL(PLAIN_WHERE UNREAD AFTER_CURSOR PLAIN_ORDER, "")},
};
static const char filtered_sql[] =
    PAGE_SQL("SELECT " H_NOTIF_FEED_COLUMNS H_NOTIF_FEED_FILTERS H_NOTIF_FEED_ORDER, "");

/* "[a,b,...]" of the first n items of joined (their texts separated by U+001E; "" when there
 * are none), as a new string. */
static char *join_items(const char *joined, int n) {
  size_t len = 0; /* the first n items and the separators between them */
  if (n > 0) {
    const char *end = joined;
    for (int i = 0; i < n && end != NULL; i++) { /* the separator after item i + 1 */
      end = strchr(i == 0 ? end : end + 1, '\x1e');
    }
    len = end != NULL ? (size_t)(end - joined) : strlen(joined);
  }
  char *out = h_malloc(len + 3);
  out[0] = '[';
  for (size_t i = 0; i < len; i++) {
    out[i + 1] = joined[i] == '\x1e' ? ',' : joined[i];
  }
  out[len + 1] = ']';
  out[len + 2] = '\0';
  return out;
}

bool h_feed_repo_plain(const struct h_feed_filter *f) {
  return f->unread != 0 && f->category == NULL && f->priority == NULL && !f->archived &&
         f->since == NULL && f->until == NULL && f->q == NULL;
}

bool h_feed_repo_first(const struct h_feed_filter *f, const struct h_page *page) {
  return h_feed_repo_plain(f) && page->starting_after == NULL;
}

h_result h_feed_repo_page(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **items, bool *has_more, long *unread,
                          long long *due_ms) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  PGresult *res = NULL;
  h_result r;
  *items = NULL;
  *due_ms = -1;
  if (h_feed_repo_plain(f)) {
    const char *params[] = {user_id, limit, page->starting_after};
    bool after = page->starting_after != NULL;
    r = h_db_exec_generic(conn, plain_sql[f->unread == 1][after], after ? 3 : 2, params, &res);
  } else {
    const char *unread_s = f->unread < 0 ? NULL : f->unread ? "t" : "f";
    const char *params[] = {user_id, unread_s, f->category, f->priority, page->starting_after,
                            limit, f->archived ? "t" : "f", f->since, f->until};
    r = h_db_exec(conn, filtered_sql, 9, params, &res);
  }
  if (r != H_OK) {
    return r;
  }
  *unread = atol(PQgetvalue(res, 0, 0));
  int n = atoi(PQgetvalue(res, 0, 1));
  *has_more = n > page->limit;
  *items = join_items(PQgetvalue(res, 0, 2), *has_more ? page->limit : n);
  if (PQnfields(res) > 3 && !PQgetisnull(res, 0, 3)) {
    *due_ms = atoll(PQgetvalue(res, 0, 3));
  }
  PQclear(res);
  return H_OK;
}

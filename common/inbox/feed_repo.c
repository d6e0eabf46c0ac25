/* feed_repo.c - see feed_repo.h. */
#include "inbox/feed_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"
#include "queue/jobs.h"

/* The page query (its rows: the limit + 1 newest matching notifications) wrapped so that one
 * row comes back: the unread count, whether a row beyond the limit exists, and the items of
 * the page as a JSON array (row_to_json of the feed columns, the page's order kept by rn).
 * LIMIT is the parameter holding the limit + 1. */
#define PAGE_SQL(QUERY, LIMIT)                                                              \
  "WITH page AS MATERIALIZED (SELECT row_to_json(f)::text AS item,"                         \
  "   row_number() OVER () AS rn FROM (" QUERY ") f)"                                        \
  " SELECT " H_UNREAD_COUNT_SQL("$1::uuid") ","                                            \
  "   (SELECT count(*) FROM page) >= " LIMIT ","                                            \
  "   '[' || COALESCE((SELECT string_agg(item, ',' ORDER BY rn) FROM page"                  \
  "     WHERE rn < " LIMIT "), '') || ']'"

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
  {PAGE_SQL(PLAIN_WHERE PLAIN_ORDER, "$2::int"),
   PAGE_SQL(PLAIN_WHERE AFTER_CURSOR PLAIN_ORDER, "$2::int")},
  {PAGE_SQL(PLAIN_WHERE UNREAD PLAIN_ORDER, "$2::int"),
   PAGE_SQL(PLAIN_WHERE UNREAD AFTER_CURSOR PLAIN_ORDER, "$2::int")},
};
static const char filtered_sql[] =
    PAGE_SQL("SELECT " H_NOTIF_FEED_COLUMNS H_NOTIF_FEED_FILTERS H_NOTIF_FEED_ORDER, "$6::int");

bool h_feed_repo_plain(const struct h_feed_filter *f) {
  return f->unread != 0 && f->category == NULL && f->priority == NULL && !f->archived &&
         f->since == NULL && f->until == NULL && f->q == NULL;
}

h_result h_feed_repo_page(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **items, bool *has_more, long *unread) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  PGresult *res = NULL;
  h_result r;
  *items = NULL;
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
  *has_more = PQgetvalue(res, 0, 1)[0] == 't';
  *items = h_strdup(PQgetvalue(res, 0, 2));
  PQclear(res);
  return H_OK;
}

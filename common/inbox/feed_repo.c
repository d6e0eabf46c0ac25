/* feed_repo.c - see feed_repo.h. */
#include "inbox/feed_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"
#include "queue/jobs.h"

/* The page query (its rows: the limit + 1 newest matching notifications, each as the JSON
 * text of its feed columns, in the page's order) joined to a one-row count, so that the
 * unread count comes back even for an empty page: one row per item, the first holding the
 * count (and a NULL item when the page is empty). No window, aggregate or materialised CTE:
 * starting those nodes was a sixth of PostgreSQL's time per page (bench/profile_reads.sh), and
 * the API joins the items itself. */
#define PAGE_SQL(QUERY)                                                                     \
  "SELECT c.unread, p.item FROM (SELECT " H_UNREAD_COUNT_SQL("$1::uuid") " AS unread) c"    \
  " LEFT JOIN (SELECT row_to_json(f)::text AS item FROM (" QUERY ") f) p ON true"

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
  {PAGE_SQL(PLAIN_WHERE PLAIN_ORDER), PAGE_SQL(PLAIN_WHERE AFTER_CURSOR PLAIN_ORDER)},
  {PAGE_SQL(PLAIN_WHERE UNREAD PLAIN_ORDER),
   PAGE_SQL(PLAIN_WHERE UNREAD AFTER_CURSOR PLAIN_ORDER)},
};
static const char filtered_sql[] =
    PAGE_SQL("SELECT " H_NOTIF_FEED_COLUMNS H_NOTIF_FEED_FILTERS H_NOTIF_FEED_ORDER);

/* "[item,item,...]" of the first n rows' items (column 1), as a new string. */
static char *join_items(const PGresult *res, int n) {
  size_t len = 3; /* [ ] NUL */
  for (int i = 0; i < n; i++) {
    len += (size_t)PQgetlength(res, i, 1) + 1;
  }
  char *out = h_malloc(len);
  char *w = out;
  *w++ = '[';
  for (int i = 0; i < n; i++) {
    if (i > 0) {
      *w++ = ',';
    }
    size_t l = (size_t)PQgetlength(res, i, 1);
    memcpy(w, PQgetvalue(res, i, 1), l);
    w += l;
  }
  *w++ = ']';
  *w = '\0';
  return out;
}

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
  int n = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
  *has_more = n > page->limit;
  *items = join_items(res, *has_more ? page->limit : n);
  PQclear(res);
  return H_OK;
}

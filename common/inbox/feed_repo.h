/* feed_repo.h - the SQL of a feed page (GET /api/v1/notifications without ?q=): the page's
 * items and the user's unread count in one statement, the items' JSON built by PostgreSQL.
 * The plain page and the unread page (no other filter; a cursor allowed) run with a generic
 * plan (h_db_exec_generic): each is read the same way for every user, along
 * notifications_in_app_feed_idx or notifications_unread_feed_idx; a page with other filters
 * keeps a plan for its parameters. */
#ifndef HERALD_FEED_REPO_H
#define HERALD_FEED_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/page.h"
#include "core/result.h"
#include "notifications/notification_repo.h"

/* One page of user_id's feed (f->q must be NULL): *items receives the JSON array text of at
 * most page->limit feed items (newest first; owned, free()), *has_more whether more follow,
 * *unread the user's unread count; for a first page (h_feed_repo_first) *due_ms the
 * milliseconds until the user's next scheduled in-app notification joins the feed, -1 when
 * none waits (and for other pages). */
h_result h_feed_repo_page(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **items, bool *has_more, long *unread,
                          long long *due_ms);

/* True for the plain or the unread page without a cursor: the pages a process may keep a
 * copy of (feed_service.h). Pure. */
bool h_feed_repo_first(const struct h_feed_filter *f, const struct h_page *page);

/* True when f asks for the plain or the unread page (no other filter; a cursor allowed),
 * which run with a generic plan. Pure. */
bool h_feed_repo_plain(const struct h_feed_filter *f);

#endif

/* feed_service.h - GET /api/v1/notifications: a page of the user's feed as the body to send
 * (the list envelope with unread_count), built from PostgreSQL's JSON text without parsing
 * it (feed_repo.h); a search (?q=) goes through h_notification_feed.
 *
 * Each API process keeps copies of users' first pages (no cursor; no filter but ?unread=true;
 * one page size per user) in app->feeds (core/copy_cache.h), for HERALD_FEED_CACHE_MS at
 * most. What drops them is the stream's change notices (stream_bus.h), which every writer of a
 * feed in Herald publishes after its COMMIT: each process drops a user's copy when a notice
 * names the user, and the publishing process drops its own before it answers (read-your-writes
 * on one process; others see the change when the notice arrives, about a millisecond later).
 * The table is on only while the stream hub's subscriber holds every shard's subscription
 * (stream_sub.c), so no notice can pass unseen; it is off, every copy void, from a lost
 * connection until the subscriptions are confirmed again. A copy never outlives the moment the
 * user's next scheduled in-app notification falls due (the page statement says when). A change
 * made outside Herald (SQL typed by hand, the retention purge of old rows) sends no notice and
 * shows when the copy ages out. */
#ifndef HERALD_FEED_SERVICE_H
#define HERALD_FEED_SERVICE_H

#include "app/app.h"
#include "core/page.h"
#include "core/result.h"
#include "notifications/notification_repo.h"

#define H_FEED_CACHE_SLOTS 2048      /* users' copies per process */
#define H_FEED_CACHE_MAX_BYTES 16384 /* larger pages are not kept: at most 32 MiB of copies */

/* *body receives the JSON text {"object":"list","data":[...],"has_more":..,"unread_count":..}
 * (owned, free()) of one page of user_id's feed. */
h_result h_feed_page_body(struct h_app *app, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **body);

#endif

/* feed_service.h - GET /api/v1/notifications: a page of the user's feed as the body to send
 * (the list envelope with unread_count), built from PostgreSQL's JSON text without parsing
 * it (feed_repo.h); a search (?q=) goes through h_notification_feed. */
#ifndef HERALD_FEED_SERVICE_H
#define HERALD_FEED_SERVICE_H

#include "app/app.h"
#include "core/page.h"
#include "core/result.h"
#include "notifications/notification_repo.h"

/* *body receives the JSON text {"object":"list","data":[...],"has_more":..,"unread_count":..}
 * (owned, free()) of one page of user_id's feed. */
h_result h_feed_page_body(struct h_app *app, const char *user_id, const struct h_feed_filter *f,
                          const struct h_page *page, char **body);

#endif

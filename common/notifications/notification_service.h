/* notification_service.h - sending a notification and the user's feed. json_t **
 * out-parameters are new references for the caller. */
#ifndef HERALD_NOTIFICATION_SERVICE_H
#define HERALD_NOTIFICATION_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "store/group_commit.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "notifications/notification_repo.h"
#include "notifications/notify.h"

/* Creates the notification and its deliveries in one transaction (with the audit row and
 * the idempotency record, idem may be NULL), then pushes the ids. With the group commit the
 * reads run here and the write joins the transaction of whatever else is queued; it returns
 * only once that transaction committed (or this write failed alone). H_ERR_UNPROCESSABLE
 * with err filled when the request cannot be carried out; H_ERR_CONFLICT when idem is
 * deferred and another request holds its key (nothing written). On H_OK *text is the
 * created notification as JSON text (JSON_COMPACT; with a key, the very text its idempotency
 * record stored), to be answered as it is; the caller frees it. */
h_result h_notification_send(struct h_app *app, const struct h_actor *actor,
                             const struct h_notify_request *req, const struct h_idem *idem,
                             char **text, struct h_notify_error *err);

/* h_notification_send without waiting for the group commit: queues the send and returns at
 * once; done(arg) runs on the group commit's answering thread once the outcome is known, and
 * h_notification_send_end (on any thread, after done) returns it as h_notification_send
 * would have and frees the send. actor, req, idem and err are borrowed until then. NULL
 * when nothing was queued (HERALD_GROUP_COMMIT off, or stopping): call
 * h_notification_send. */
struct h_notification_send;
struct h_notification_send *h_notification_send_begin(struct h_app *app,
                                                      const struct h_actor *actor,
                                                      const struct h_notify_request *req,
                                                      const struct h_idem *idem,
                                                      struct h_notify_error *err,
                                                      void (*done)(void *arg), void *arg);
h_result h_notification_send_end(struct h_notification_send *s, char **text);

/* True when h_notification_send claims a deferred idempotency key in the statement of its
 * write (the group commit), so the caller need not claim it first. */
bool h_notification_defers_keys(const struct h_app *app);

/* The feed as a list body carrying unread_count. */
h_result h_notification_feed(struct h_app *app, const char *user_id,
                             const struct h_feed_filter *filter, const struct h_page *page,
                             json_t **list);
h_result h_notification_unread_count(struct h_app *app, const char *user_id, long *count);

/* A notification: for admins (admin=true) any one, with its deliveries; otherwise one of
 * user_id's feed. */
h_result h_notification_find(struct h_app *app, const char *id, const char *user_id, bool admin,
                             json_t **notification);
h_result h_notification_mark(struct h_app *app, const struct h_actor *actor, const char *id,
                             bool read, json_t **notification);
h_result h_notification_read_all(struct h_app *app, const struct h_actor *actor, long *updated);
h_result h_notification_remove(struct h_app *app, const struct h_actor *actor, const char *id);
/* Archives (archive=true, marking it read) or brings back a notification of the actor's
 * feed; the one change of its archive state. */
h_result h_notification_archive(struct h_app *app, const struct h_actor *actor, const char *id,
                                bool archive, json_t **notification);
/* Soft-deletes the actor's whole feed (POST /notifications/clear); *cleared receives how
 * many notifications left it. */
h_result h_notification_clear(struct h_app *app, const struct h_actor *actor, long *cleared);

/* The group commit of h_notification_send (store/group_commit.h), or NULL when
 * HERALD_GROUP_COMMIT is off. The API creates it when its server starts; h_app_free
 * drains and frees it. */
struct h_gc *h_notification_gc_create(struct h_app *app);

/* Pushes the ids of push through the API's Redis pool (after COMMIT). */
void h_notification_push(struct h_app *app, const struct h_push_list *push,
                         const char *request_id);

#endif

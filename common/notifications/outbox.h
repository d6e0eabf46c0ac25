/* outbox.h - notifications Herald sends on its own behalf (password reset,
 * e-mail verification): a notification and its e-mail delivery are written in the
 * caller's transaction; the delivery id is pushed to the queue after COMMIT. */
#ifndef HERALD_OUTBOX_H
#define HERALD_OUTBOX_H

#include <jansson.h>
#include <libpq-fe.h>

#include "app/app.h"
#include "queue/queue.h"
#include "core/result.h"

/* Inserts notification + queued e-mail delivery for user_id; data is borrowed.
 * delivery_id receives the id to push after commit. */
h_result h_outbox_email(PGconn *conn, const char *user_id, const char *category,
                        const char *template_key, const char *title, const char *body,
                        const json_t *data, char delivery_id[37]);

/* h_outbox_push of the delivery ids of a JSON array of strings (borrowed). */
void h_outbox_push_json(struct h_app *app, enum h_queue q, const json_t *ids,
                        const char *request_id);

/* h_outbox_email to every active admin (data borrowed); the delivery ids are appended to
 * ids (a JSON array) for the push after commit. */
h_result h_outbox_email_admins(PGconn *conn, const char *category, const char *template_key,
                               const char *title, const char *body, const json_t *data,
                               json_t *ids);

/* Marks the notification of delivery_id sensitive: it carries a secret (a one-time link),
 * so reads never show its content and it is cleared once sent, dead or expired. */
h_result h_outbox_mark_sensitive(PGconn *conn, const char *delivery_id);

/* Clears the content of sensitive notifications older than max_age_s (their links have
 * expired); *cleared (may be NULL) receives how many. */
h_result h_outbox_clear_expired(PGconn *conn, int max_age_s, long *cleared);

/* Pushes committed delivery ids onto queue q. Redis being down is logged, not an
 * error: the rows stay queued in PostgreSQL and the sweeper pushes them later. */
void h_outbox_push(struct h_app *app, enum h_queue q, const char *const *ids, size_t n,
                   const char *request_id);

#endif

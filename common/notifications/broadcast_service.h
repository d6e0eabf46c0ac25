/* broadcast_service.h - bulk notifications and announcements: accepted at once, fanned
 * out in the background (common/notifications/fanout.h). json_t ** out-parameters are new references. */
#ifndef HERALD_BROADCAST_SERVICE_H
#define HERALD_BROADCAST_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notifications/broadcast_repo.h"
#include "store/idempotency.h"
#include "notifications/notify.h"

struct h_broadcast_input {
  const char *kind;             /* "bulk" or "announcement" */
  const char *target;           /* "list", "all", "users", "admins" */
  const json_t *user_ids;       /* target list: distinct UUID strings (borrowed) */
  const json_t *locales;        /* announcements: locales or languages, or NULL (borrowed) */
  const json_t *topics;         /* announcements: topic keys, or NULL (borrowed) */
  struct h_notify_request req;  /* the send fields; req.send_at starts the fan-out */
};

/* Records the broadcast (audit row, idempotency record) for the fan-out to pick up.
 * H_ERR_UNPROCESSABLE with err filled when its template is unknown or misses a variable. */
h_result h_broadcast_create(struct h_app *app, const struct h_actor *actor,
                            const struct h_broadcast_input *in, const struct h_idem *idem,
                            json_t **broadcast, struct h_notify_error *err);
/* Withdraws an announcement: its fan-out stops, its unread in-app copies leave the feeds
 * and its deliveries not yet sent are skipped (reason withdrawn); the one change of an
 * announcement's withdrawal. H_ERR_NOT_FOUND, or H_ERR_CONFLICT (err filled) when it is
 * already withdrawn. */
h_result h_broadcast_withdraw(struct h_app *app, const struct h_actor *actor, const char *id,
                              json_t **announcement, struct h_notify_error *err);

/* Changes an announcement's content: patch (borrowed; title, body, action_url, data, null
 * removing one) applies to the copies already made and to the rest of its fan-out.
 * H_ERR_NOT_FOUND; H_ERR_CONFLICT when withdrawn, H_ERR_UNPROCESSABLE when its content
 * comes from a template (err filled). */
h_result h_broadcast_update(struct h_app *app, const struct h_actor *actor, const char *id,
                            const json_t *patch, json_t **announcement,
                            struct h_notify_error *err);

h_result h_broadcast_find(struct h_app *app, const char *id, const char *kind,
                          json_t **broadcast);
h_result h_broadcast_list(struct h_app *app, const char *kind, const struct h_page *page,
                          json_t **data, bool *has_more);

/* The send fields as stored with a broadcast (new reference), and back: req's strings
 * are borrowed from stored. The reading is false when stored lacks what a send needs (a
 * valid category and priority, a template or a body, known channels): a row not written by
 * h_broadcast_request_json. */
json_t *h_broadcast_request_json(const struct h_notify_request *req);
bool h_broadcast_request_read(const json_t *stored, struct h_notify_request *req);

#endif

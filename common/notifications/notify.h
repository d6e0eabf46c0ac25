/* notify.h - creating notifications and their deliveries inside the caller's
 * transaction, prepared one by one and written n at a time (one statement, h_notify_build).
 * Shared by POST /api/v1/notifications (alone or through the group commit) and the fan-out of
 * bulk sends and announcements, so all follow the same rules:
 *   - channels: those asked for, or all four; each gets a delivery row, skipped (with a
 *     reason) when the user's preferences turn it off or there is no phone / device;
 *   - content: the template rendered in the user's locale (falling back to the template's
 *     base content), or the literal title/body; stored rendered on the notification;
 *   - timing: queued now, scheduled at send_at, or (non-critical e-mail, SMS, push) at the
 *     end of the user's quiet hours; in-app is sent at once (or at send_at).
 * The ids to push are collected for the caller to push after COMMIT. */
#ifndef HERALD_NOTIFY_H
#define HERALD_NOTIFY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "notifications/delivery_plan.h"
#include "notifications/notification_repo.h"

#include "core/flood.h"
#include "queue/push_list.h"
#include "core/result.h"

struct h_notify_request {
  const char *user_id;
  const char *category;
  const char *priority;        /* low|normal|high|critical */
  unsigned channels;           /* H_CHANNEL_BIT mask; 0: every channel */
  const char *template_key;    /* NULL: title/body */
  const json_t *data;          /* borrowed, may be NULL */
  const json_t *push;          /* borrowed, may be NULL: channels/push_options.h */
  const char *title, *body, *action_url;
  const char *send_at;         /* RFC 3339, in the future, or NULL */
  const char *broadcast_id;    /* set by the fan-out */
};

/* Why a request cannot be carried out (422). */
struct h_notify_error {
  char code[48];
  char param[160];
  char message[256];
};

/* A notification ready to be written: everything the reads (recipient, template, quiet
 * hours) decided, with its ids generated up front so that many can be written in one
 * statement per table (the group commit of POST /api/v1/notifications). */
/* Most deliveries of one notification: one per channel, the webhook channel's one per
 * endpoint. */
#define H_NOTIFY_DELIVERIES_MAX (H_CHANNEL_COUNT - 1 + H_WEBHOOK_TARGETS_MAX)

struct h_notify_prepared {
  const struct h_notify_request *req; /* borrowed */
  char id[37];
  char audit_id[37];                  /* the id of its audit row (POST /notifications) */
  char locale[16];                    /* the template variant used, "" for none */
  json_t *rendered;                   /* owned */
  bool in_app;
  char send_at[32];                   /* req->send_at as RFC 3339 UTC, "" for none */
  int n;                              /* deliveries */
  struct {
    char id[37];
    const char *channel, *status, *reason; /* static */
    char due_at[32];                  /* RFC 3339 UTC, "" for now */
    char endpoint_id[37];             /* webhook: the endpoint, "" otherwise */
  } d[H_NOTIFY_DELIVERIES_MAX];
  /* Filled by h_notify_write: */
  char *out_text;                     /* owned: the response object's JSON text, as
                                       * json_dumps(JSON_COMPACT) would print it */
  struct h_push_list push;            /* owned: the ids to push after COMMIT */
};

/* Reads what sending req needs through conn (no transaction needed) and fills *p. tpl as
 * for h_notify_in_tx; flood (borrowed, may be NULL: no digests) decides which e-mail and
 * push deliveries wait for a digest (status "digest"). H_ERR_UNPROCESSABLE with err filled
 * for an unknown user or template or a missing variable. Free *p with
 * h_notify_prepared_free whatever the outcome. */
h_result h_notify_prepare(PGconn *conn, const struct h_notify_request *req, const json_t *tpl,
                          const struct h_flood_rules *flood, struct h_notify_prepared *p,
                          struct h_notify_error *err);
void h_notify_prepared_free(struct h_notify_prepared *p);

/* Whether planning req needs its recipient's active devices: only push reads them, and push
 * is planned when req names it or names no channel (every channel). */
bool h_notify_needs_devices(const struct h_notify_request *req);

/* h_notify_prepare with the recipient already read (rc borrowed; rc->found false: the
 * 422 user_not_found), for a batch whose recipients are read in one statement. */
h_result h_notify_prepare_for(PGconn *conn, const struct h_notify_request *req,
                              const json_t *tpl, const struct h_flood_rules *flood,
                              const struct h_recipient_row *rc, struct h_notify_prepared *p,
                              struct h_notify_error *err);

/* Sets out_text and push of the n prepared items, created at created_at (RFC 3339 UTC: the
 * transaction's now(), which their rows get when written). */
void h_notify_respond(struct h_notify_prepared *const *items, int n, const char *created_at);

/* The one statement that writes the n prepared items, and the rows of extra (may be NULL),
 * built without a connection (h_notif_stmt_build: it keeps nothing of items or extra), to
 * run with h_notif_stmt_exec (the group commit builds a batch's on its preparing thread). */
struct h_notif_stmt *h_notify_build(struct h_notify_prepared *const *items, int n,
                                    const struct h_notif_extra *extra);

/* Writes the n prepared notifications (borrowed) in the open transaction of conn, in one
 * statement, and sets each one's out_text and push. H_ERR_NOT_FOUND when a recipient
 * was deleted since it was prepared (nothing of the batch is then valid: roll back). */
h_result h_notify_write(PGconn *conn, struct h_notify_prepared *const *items, int n);

/* Creates the notification in the open transaction of conn. tpl is the template object
 * (borrowed) when the caller already loaded it, else NULL. On H_OK *out is the response
 * object (new reference) and the ids to push are appended to push. H_ERR_UNPROCESSABLE
 * with err filled for an unknown user or template or a missing variable. */
h_result h_notify_in_tx(PGconn *conn, const struct h_notify_request *req, const json_t *tpl,
                        const struct h_flood_rules *flood, json_t **out,
                        struct h_push_list *push, struct h_notify_error *err);

/* Loads template key into *tpl (new reference); H_ERR_UNPROCESSABLE with err filled when
 * there is none. */
h_result h_notify_load_template(PGconn *conn, const char *key, json_t **tpl,
                                struct h_notify_error *err);

/* Renders tpl's base content and every locale variant with data, so a fan-out can be
 * refused up front (H_ERR_UNPROCESSABLE, err names the variable). */
h_result h_notify_check_template(const json_t *tpl, const json_t *data,
                                 struct h_notify_error *err);

#endif

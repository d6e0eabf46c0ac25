/* notification_repo.h - SQL for notifications and their deliveries. Objects come back
 * as JSON in their wire shape; every json_t ** out-parameter is a new reference the
 * caller decrefs, every PGresult ** one the caller PQclear()s. */
#ifndef HERALD_NOTIFICATION_REPO_H
#define HERALD_NOTIFICATION_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "notifications/delivery_plan.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

/* What sending needs to know about a recipient. */
struct h_recipient_row {
  char locale[16];
  bool has_phone;
  int active_devices;
  json_t *prefs;         /* owned: {"channels","categories"} */
  bool quiet_enabled;
  char quiet_start[6], quiet_end[6];
  char quiet_tz[65];     /* the preference's zone, else the profile's */
  char local_due[20];    /* "YYYY-MM-DD HH:MM" of the due instant in quiet_tz ("" if off) */
  char due_utc[32];      /* due_at as RFC 3339 UTC ("" when due_at is NULL) */
};

/* Loads a live user; due_at (RFC 3339 or NULL for now) is the instant whose local time is
 * computed. H_ERR_NOT_FOUND for an unknown or deleted user. Caller frees out->prefs. */
h_result h_notif_repo_recipient(PGconn *conn, const char *user_id, const char *due_at,
                                struct h_recipient_row *out);

/* Converts a local wall-clock time "YYYY-MM-DD HH:MM:SS" in zone to RFC 3339 UTC (the
 * tz database of PostgreSQL decides DST). */
h_result h_notif_repo_local_to_utc(PGconn *conn, const char *local, const char *zone,
                                   char out[32]);

struct h_notification_row {
  const char *id, *user_id, *category, *priority, *template_key, *locale;
  const char *title, *body, *html, *action_url, *send_at, *broadcast_id;
  const json_t *data, *rendered; /* borrowed; data may be NULL */
  bool in_app;
};

/* Inserts n notifications (ids given) in one statement, skipping those whose user is gone
 * (deleted since it was read): *inserted receives how many went in, created_at (RFC 3339
 * UTC) the transaction's now(), their common created_at. */
h_result h_notif_repo_insert_many(PGconn *conn, const struct h_notification_row *rows, int n,
                                  int *inserted, char created_at[32]);

/* One delivery to insert; due_at NULL means now (and sent_at is now when status is sent). */
struct h_delivery_row {
  const char *id, *notification_id, *user_id;
  const char *channel, *status, *reason, *due_at;
};

/* Inserts n deliveries (of any notifications) in one statement. */
h_result h_notif_repo_insert_deliveries_many(PGconn *conn, const struct h_delivery_row *rows,
                                             int n);

/* ---- the user's feed (in-app notifications that are due and not deleted) ---- */

struct h_feed_filter {
  int unread;             /* -1 any, 1 unread only, 0 read only */
  const char *category;   /* NULL: any */
  const char *priority;   /* NULL: any */
};

h_result h_notif_repo_feed(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                           const struct h_page *page, json_t **data, bool *has_more);
h_result h_notif_repo_unread_count(PGconn *conn, const char *user_id, long *count);

/* A feed notification of user_id, or (user_id NULL, for admins) any notification with
 * its recipient, template and rendered content. H_ERR_NOT_FOUND otherwise. */
h_result h_notif_repo_get(PGconn *conn, const char *id, const char *user_id, json_t **out);

/* The deliveries of a notification, oldest first (new array). */
h_result h_notif_repo_deliveries(PGconn *conn, const char *notification_id, json_t **out);

/* Marks a feed notification of user_id read (read=true) or unread; returns it. */
h_result h_notif_repo_set_read(PGconn *conn, const char *id, const char *user_id, bool read,
                               json_t **out);

/* Marks every unread feed notification of user_id read; *updated receives how many. */
h_result h_notif_repo_read_all(PGconn *conn, const char *user_id, long *updated);

/* Soft-deletes a feed notification of user_id. */
h_result h_notif_repo_soft_delete(PGconn *conn, const char *id, const char *user_id);

#endif

/* notification_repo.h - SQL for notifications and their deliveries. Objects come back
 * as JSON in their wire shape; every json_t ** out-parameter is a new reference the
 * caller decrefs, every PGresult ** one the caller PQclear()s. */
#ifndef HERALD_NOTIFICATION_REPO_H
#define HERALD_NOTIFICATION_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "audit/audit.h"
#include "notifications/delivery_plan.h"
#include "store/idempotency.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"
#include "store/db.h"

/* Visible in the feed: in-app, not deleted, due (send_at reached). */
#define H_NOTIF_FEED_WHERE                                                                  \
  " in_app AND deleted_at IS NULL AND (send_at IS NULL OR send_at <= now())"

/* Every notification of one user (user: an SQL uuid expression), written so that the planner
 * reads them through the two partial indexes that hold a user's rows between them,
 * notifications_user_event_idx (in-app) and notifications_user_idx (the rest), as a
 * BitmapOr: no index holds all of a user's rows (db/migrations/0103_user_indexes_split.sql),
 * so `user_id = x` alone is a sequential scan. */
#define H_NOTIF_OF_USER(user) " user_id = " user " AND (in_app OR NOT in_app)"

/* A feed item's columns (the wire shape of GET /api/v1/notifications). */
#define H_NOTIF_FEED_COLUMNS                                                                \
  "id, 'notification' AS object, category, priority, title,"                                \
  " CASE WHEN sensitive THEN NULL ELSE body END AS body,"                                   \
  " CASE WHEN sensitive THEN NULL ELSE action_url END AS action_url,"                       \
  " CASE WHEN sensitive THEN '{}'::jsonb ELSE data END AS data,"                            \
  " (read_at IS NOT NULL) AS read, " H_SQL_TS("read_at") " AS read_at, " H_SQL_TS("send_at") \
  " AS send_at, " H_SQL_TS("created_at") " AS created_at,"                                  \
  " (archived_at IS NOT NULL) AS archived, " H_SQL_TS("archived_at") " AS archived_at"

/* The SET items of every UPDATE a notification stream reports (read, unread, deleted): the
 * row takes the next event_seq and keeps the one it was created with
 * (db/migrations/0055_notification_event_seq.sql). */
#define H_NOTIF_BUMP_SEQ                                                                    \
  "created_seq = COALESCE(created_seq, event_seq),"                                         \
  " event_seq = nextval('notification_event_seq')"

/* The transaction lock of one user's feed changes (uuid: an SQL uuid expression): every
 * transaction takes it before it draws an event_seq for the user's rows and holds it to its
 * COMMIT, so a user's event_seq values commit in increasing order and a stream that has read
 * event_seq s has seen every smaller one (docs/streaming.md). Several users: in sorted order. */
#define H_NOTIF_FEED_LOCK(uuid) "pg_advisory_xact_lock(21332, hashtext((" uuid ")::text))"

/* What sending needs to know about a recipient. */
struct h_recipient_row {
  bool found;            /* false: no such live user (the rest is empty) */
  char locale[16];
  bool has_phone;
  int active_devices;    /* 0 when not counted (h_notif_repo_recipients' devices) */
  json_t *prefs;         /* owned: {"channels","categories"}; NULL when neither is set */
  bool quiet_enabled;
  char quiet_start[6], quiet_end[6];
  char quiet_tz[65];     /* the preference's zone, else the profile's */
  char local_due[20];    /* "YYYY-MM-DD HH:MM" of the due instant in quiet_tz ("" if off) */
  char due_utc[32];      /* due_at as RFC 3339 UTC ("" when due_at is NULL) */
  int nendpoints;        /* enabled webhook endpoints for the category: the user's, then */
  char endpoints[H_WEBHOOK_TARGETS_MAX][37]; /* the system-wide ones, oldest first */
};

/* The recipients of a batch in one read: out[i] for user_ids[i] with due_ats[i] (RFC 3339
 * or NULL for now) and the webhook endpoints a notification of categories[i] reaches,
 * out[i].found false for an unknown or deleted user. Their active devices are counted only
 * where devices[i] is set (NULL: for every row), and are 0 elsewhere: a count per row is a
 * subquery of its own, most of the read's time when nothing is sent by push. now (may be
 * NULL) receives the transaction's now() as RFC 3339 UTC to the microsecond
 * (YYYY-MM-DDTHH:MM:SS.ffffffZ). Caller frees each found out[i].prefs. */
h_result h_notif_repo_recipients(PGconn *conn, const char *const *user_ids,
                                 const char *const *due_ats, const char *const *categories,
                                 const bool *devices, int n, struct h_recipient_row *out,
                                 char now[40]);

/* Loads a live user; due_at (RFC 3339 or NULL for now) is the instant whose local time is
 * computed. H_ERR_NOT_FOUND for an unknown or deleted user. Caller frees out->prefs. */
h_result h_notif_repo_recipient(PGconn *conn, const char *user_id, const char *due_at,
                                struct h_recipient_row *out);

/* Converts a local wall-clock time "YYYY-MM-DD HH:MM:SS" in zone to RFC 3339 UTC (the
 * tz database of PostgreSQL decides DST). */
h_result h_notif_repo_local_to_utc(PGconn *conn, const char *local, const char *zone,
                                   char out[32]);

/* A notification to insert (ids generated by the caller). */
struct h_notification_row {
  const char *id, *user_id, *category, *priority, *template_key, *locale;
  const char *title, *body, *html, *action_url, *send_at, *broadcast_id;
  const json_t *data, *rendered; /* borrowed; data may be NULL, rendered NULL for none */
  const json_t *push;            /* borrowed; the push options, NULL for none */
  bool in_app;
  bool system;                   /* Herald's own notice: written whatever the user's status */
};

/* A delivery to insert; due_at NULL means now (and sent_at is now when status is sent). */
struct h_delivery_row {
  const char *id, *notification_id, *user_id;
  const char *channel, *status, *reason, *due_at;
  const char *endpoint_id; /* webhook: the endpoint, else NULL */
};

/* Rows written in the same statement as a batch's notifications (the group commit of POST
 * /api/v1/notifications): its audit entries (target_id: a notification id) and the
 * idempotency records it completes with idem_status[i] and the response idem_bodies[i]
 * (JSON text), each for notification idem_notification[i]. A record whose idem is deferred
 * is claimed by the statement itself (taken over when in flight for idem_lock_s seconds or
 * older than idem_ttl_s) and its notification is written only if the claim succeeds. An
 * entry or record whose notification is not written is left out too. All borrowed. */
struct h_notif_extra {
  const struct h_audit_entry *audit;
  int naudit;
  const struct h_idem *const *idem;
  const unsigned int *idem_status;
  const char *const *idem_bodies;
  const char *const *idem_notification;
  int nidem;
  int idem_lock_s, idem_ttl_s;
  const char *created_at; /* the rows' created_at (timestamptz text), NULL: now() */
};

/* The one write of notifications: inserts n notifications, nd deliveries (of those
 * notifications) and the rows of extra (may be NULL), all in one statement whose columns
 * are arrays (unnest), after taking the feed locks (H_NOTIF_FEED_LOCK) of the in-app rows'
 * users in order. *inserted receives how many notifications went in and created_at
 * (RFC 3339 UTC) the transaction's now(), their common created_at. A notification whose
 * user is deleted (since it was read) is left out, with its deliveries and extra rows,
 * unless it is a system notice. written NULL: that is H_ERR_NOT_FOUND (the caller rolls
 * back); else written[i] (n flags) tells which rows went in and the others are simply not
 * written (for a statement run on its own, which commits what it wrote). rows and dels are
 * borrowed. */
h_result h_notif_repo_insert(PGconn *conn, const struct h_notification_row *rows, int n,
                             const struct h_delivery_row *dels, int nd,
                             const struct h_notif_extra *extra, int *inserted,
                             char created_at[32], bool *written);

/* h_notif_repo_insert in two steps, so that the statement can be built ahead of the
 * connection it runs on (the group commit builds a batch's while the batch before is
 * written): h_notif_stmt_build copies what it needs of its arguments (all borrowed for the
 * call only); h_notif_stmt_exec runs it as h_notif_repo_insert does; free it with
 * h_notif_stmt_free (NULL is a no-op). */
struct h_notif_stmt;
struct h_notif_stmt *h_notif_stmt_build(const struct h_notification_row *rows, int n,
                                        const struct h_delivery_row *dels, int nd,
                                        const struct h_notif_extra *extra);
h_result h_notif_stmt_exec(PGconn *conn, const struct h_notif_stmt *st, int *inserted,
                           char created_at[32], bool *written);
void h_notif_stmt_free(struct h_notif_stmt *st);

/* ---- the user's feed (in-app notifications that are due and not deleted) ---- */

struct h_feed_filter {
  int unread;             /* -1 any, 1 unread only, 0 read only */
  const char *category;   /* NULL: any */
  const char *priority;   /* NULL: any */
  bool archived;          /* the archived notifications instead of the others */
  const char *since;      /* RFC 3339: created at or after; NULL: any */
  const char *until;      /* RFC 3339: created before; NULL: any */
  const char *q;          /* full-text search of title and body (websearch syntax); NULL */
};

/* The feed page's filters, $1-$9: user, unread, category, priority, starting_after, (the
 * limit is $6), archived, since, until; and its order with the limit $6. */
#define H_NOTIF_FEED_FILTERS                                                                \
  " FROM notifications WHERE user_id = $1::uuid AND" H_NOTIF_FEED_WHERE                     \
  "   AND ($2::bool IS NULL OR (read_at IS NULL) = $2::bool)"                               \
  "   AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR priority = $4)"      \
  "   AND ($5::uuid IS NULL OR (created_at, id) <"                                          \
  "        (SELECT created_at, id FROM notifications WHERE id = $5::uuid))"                 \
  "   AND (archived_at IS NOT NULL) = $7::bool"                                             \
  "   AND ($8::timestamptz IS NULL OR created_at >= $8::timestamptz)"                       \
  "   AND ($9::timestamptz IS NULL OR created_at < $9::timestamptz)"
#define H_NOTIF_FEED_ORDER                                                                  \
  " ORDER BY notifications.created_at DESC, notifications.id DESC LIMIT $6::int"

h_result h_notif_repo_feed(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                           const struct h_page *page, json_t **data, bool *has_more);
h_result h_notif_repo_unread_count(PGconn *conn, const char *user_id, long *count);

/* A feed notification of user_id, or (user_id NULL, for admins) any notification with
 * its recipient, template and rendered content. H_ERR_NOT_FOUND otherwise. */
h_result h_notif_repo_get(PGconn *conn, const char *id, const char *user_id, json_t **out);

/* The deliveries of a notification, oldest first (new array). */
h_result h_notif_repo_deliveries(PGconn *conn, const char *notification_id, json_t **out);

/* Archives a feed notification of user_id (and marks it read), or brings it back
 * (archived=false); returns it. H_ERR_NOT_FOUND otherwise. */
h_result h_notif_repo_set_archived(PGconn *conn, const char *id, const char *user_id,
                                   bool archived, json_t **out);

/* Soft-deletes every notification of user_id's feed; *cleared receives how many. */
h_result h_notif_repo_clear(PGconn *conn, const char *user_id, long *cleared);

/* Marks a feed notification of user_id read (read=true) or unread (which also brings it
 * out of the archive); returns it. */
h_result h_notif_repo_set_read(PGconn *conn, const char *id, const char *user_id, bool read,
                               json_t **out);

/* Marks every unread feed notification of user_id read; *updated receives how many. */
h_result h_notif_repo_read_all(PGconn *conn, const char *user_id, long *updated);

/* Soft-deletes a feed notification of user_id. */
h_result h_notif_repo_soft_delete(PGconn *conn, const char *id, const char *user_id);

#endif

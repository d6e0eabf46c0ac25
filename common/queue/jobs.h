/* jobs.h - the job envelope and the PostgreSQL half of the queue protocol
 * (DESIGN.md "Queues"): claim with a fencing token, record the outcome guarded by
 * that token, recover the jobs of dead workers.
 *
 * A job is one deliveries row (channel email, sms or push). Redis only carries its
 * id; everything a worker needs is loaded here when the job is claimed. */
#ifndef HERALD_JOBS_H
#define HERALD_JOBS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

struct h_device {
  char *token;    /* owned */
  char *platform; /* owned: ios, android, web */
};

/* A webhook delivery's endpoint (h_job_load_endpoint). */
struct h_endpoint {
  char id[37];
  char *url;             /* owned */
  char *format;          /* owned: json, slack, discord */
  char *secret;          /* owned: "whsec_..." */
  char *previous_secret; /* owned: the rotated-out secret while its grace lasts, else NULL */
  bool enabled;
};

struct h_job {
  char id[37];
  char notification_id[37];
  char user_id[37];
  char channel[16];
  int attempts;            /* including the attempt this claim started */
  int recoveries;
  long long fencing_token; /* the token this claim holds */
  /* Content, rendered by the API (owned; NULL when the column is NULL). */
  char *category;
  char *priority;
  char *title;
  char *body;
  char *html;
  char *action_url;
  json_t *data;            /* owned, never NULL (an empty object at least) */
  json_t *push;            /* owned: the push options of the send request, or NULL */
  /* Recipient (owned; NULL when missing). */
  char *email;
  char *phone;
  char *name;
  char *locale;
  char *user_status;       /* active, disabled, deleted */
  bool email_suppressed;   /* e-mail: a provider reported the address bounced or complained */
  struct h_device *devices; /* push: active devices, owned (h_job_load_devices) */
  size_t ndevices;
  long unread;             /* push: the user's unread in-app notifications (the badge) */
  struct h_endpoint *endpoint; /* webhook: owned (h_job_load_endpoint); NULL when deleted */
};

/* Frees what job owns and clears it. */
void h_job_free(struct h_job *job);

/* A job's title and body: its channel's part of the content the API rendered (a template's
 * e-mail subject and text, SMS text, push title and body), else the notification's title
 * and body (the in-app part; a webhook's payload; a row written before the content was
 * rendered). A body cleared from a sensitive notification stays cleared. */
#define H_JOB_TITLE                                                                          \
  "COALESCE(n.rendered -> c.channel ->> CASE c.channel WHEN 'email' THEN 'subject'"         \
  " ELSE 'title' END, n.title)"
#define H_JOB_BODY                                                                           \
  "CASE WHEN n.body IS NOT NULL THEN COALESCE(n.rendered -> c.channel ->>"                  \
  " CASE WHEN c.channel IN ('email', 'sms') THEN 'text' ELSE 'body' END, n.body) END"

/* The columns every job query returns, in this order, over deliveries c, and the joins
 * they need; h_job_fill reads one row of such a result. */
#define H_JOB_COLUMNS                                                                        \
  "c.id, c.notification_id, c.user_id, c.channel, c.attempts, c.recoveries,"                \
  " c.fencing_token, n.category, n.priority, " H_JOB_TITLE ", " H_JOB_BODY ", n.html,"       \
  " n.action_url,"                                                                          \
  " n.data::text, u.email, u.phone, u.name, u.locale, u.status, n.push::text,"               \
  " c.channel = 'email' AND EXISTS (SELECT 1 FROM email_suppressions s"                   \
  "   WHERE s.email = lower(u.email))"
#define H_JOB_JOINS                                                                          \
  " JOIN notifications n ON n.id = c.notification_id JOIN users u ON u.id = c.user_id"

/* The claim's status test over deliveries (queued, or scheduled and due with 2 s of clock
 * slack). It is a CASE expression on purpose: a plain `status = 'queued'` lets the planner
 * reach the rows through the partial indexes on status (deliveries_stale_idx,
 * deliveries_scheduled_idx, deliveries_processing_idx), whose scans read every queued,
 * scheduled or processing row and every dead entry a drain leaves behind (thousands per
 * claim once a backlog is queued, and statistics taken before it was queued make that plan
 * look cheap); behind a CASE only the primary key is usable, so a claim reads its own rows and
 * nothing else. */
#define H_JOB_CLAIMABLE_SQL                                                                  \
  "CASE status WHEN 'queued' THEN true"                                                     \
  "  WHEN 'scheduled' THEN due_at <= now() + interval '2 seconds' ELSE false END"
/* "col is 'processing'", behind a CASE for the same reason. */
#define H_JOB_PROCESSING_SQL(col) "CASE " col " WHEN 'processing' THEN true ELSE false END"

/* Fills job (caller h_job_free()s it) from row of an H_JOB_COLUMNS result. */
void h_job_fill(const PGresult *res, int row, struct h_job *job);

/* Claims job id: UPDATE ... SET status='processing', attempts+1, fencing_token+1
 * WHERE the row is queued, or scheduled and due (2 s of clock slack). On H_OK job
 * is filled (caller h_job_free()s it). H_ERR_NOT_FOUND: the row is not claimable
 * (already sent, processing elsewhere, another channel's, gone...): drop the id.
 * worker_id is recorded as claimed_by; a row already 'processing' under this very
 * worker_id (a retry after a lost claim reply) is returned as claimed, with its
 * current fencing token, instead of dropped. H_ERR_CONFLICT: the
 * row is scheduled for later; *due_at receives its due time (unix seconds). Other
 * codes come from the database (H_ERR_UNAVAILABLE: retry later). */
h_result h_job_claim(PGconn *conn, const char *id, const char *channel, const char *worker_id,
                     struct h_job *job, double *due_at);

/* Loads job id without claiming it (--dry-run). H_ERR_NOT_FOUND when absent. */
h_result h_job_load(PGconn *conn, const char *id, struct h_job *job);

/* The unread count of user's feed (user: an SQL uuid expression; this: a bigint expression):
 * in-app, not deleted, due and unread, as the feed's body, GET
 * /api/v1/notifications/unread-count, the stream and a push's badge show it. It is the number
 * the triggers of migration 0099 keep for the user, less the unread rows scheduled for later
 * (send_at > now(): not in the feed yet, read through notifications_unread_scheduled_idx),
 * so it costs two index lookups however many rows are unread. */
#define H_UNREAD_COUNT_SQL(user)                                                            \
  "(COALESCE((SELECT uc.unread FROM notification_unread_counts uc"                          \
  " WHERE uc.user_id = " user "), 0) - (SELECT count(*) FROM notifications un"               \
  " WHERE un.user_id = " user " AND un.in_app AND un.deleted_at IS NULL"                     \
  " AND un.read_at IS NULL AND un.send_at > now()))"

/* Loads the user's active devices into job->devices (newest first, at most 50) and the
 * user's unread count into job->unread. */
h_result h_job_load_devices(PGconn *conn, struct h_job *job);

/* Loads the webhook endpoint of the delivery into job->endpoint (left NULL when the
 * endpoint was deleted). */
h_result h_job_load_endpoint(PGconn *conn, struct h_job *job);

/* Counts an attempt against job's endpoint: ok resets its run of failures; a failure
 * extends it, and at disable_after consecutive failures disables the endpoint (reason
 * "consecutive_failures"; the API's sweeper then tells its owner). *disabled (may be
 * NULL) tells whether this call disabled it. */
h_result h_job_endpoint_result(PGconn *conn, const struct h_job *job, bool ok, int disable_after,
                               bool *disabled);

/* What became of one attempt; every pointer is borrowed. */
struct h_job_outcome {
  const char *status;      /* deliveries.status: sent, scheduled, failed, dead, skipped */
  const char *event;       /* delivery_events.status: sent, retry, failed, dead, skipped */
  const char *provider;    /* "smtp", "file", "twilio", "fcm" */
  const char *provider_message_id;
  const char *error;       /* last_error and the event's error, or NULL */
  const char *reason;      /* deliveries.reason (skipped, failed), or NULL */
  int duration_ms;
  double due_at;           /* scheduled: unix seconds */
  const json_t *meta;      /* the event's details, or NULL */
  const json_t *deactivate_tokens; /* push: JSON array of device tokens to deactivate, or NULL */
  const json_t *calls;     /* the provider calls of this attempt (array appended to
                              deliveries.provider_attempts), or NULL */
};

/* Records o for job in one transaction guarded by job->fencing_token: the row
 * update, a delivery_events row and (push) the device deactivations. H_OK when
 * recorded (also when an earlier call whose COMMIT reply was lost had already
 * recorded it); H_ERR_CONFLICT when another claim holds the job now (fenced out:
 * drop it); database codes otherwise (retry while H_ERR_UNAVAILABLE). */
h_result h_job_record(PGconn *conn, const struct h_job *job, const struct h_job_outcome *o);

/* A job found in a dead worker's processing list. status receives what to do:
 * "queued" (push it to the ready list), "scheduled" (*due_at: add it to the delayed
 * set), "dead" (the dead-letter list), or "held"/"sent"/... (drop the id).
 * A row still 'processing' counts a recovery: it goes back to 'queued', or 'held'
 * when hold is set, or 'dead' at max_recoveries; the fencing token is bumped so
 * the lost worker can no longer record anything, and an event is written.
 * owner (may be NULL: any) is the dead worker: a row claimed by another worker
 * (a duplicate id) is left alone and reported as 'processing'. */
h_result h_job_recover(PGconn *conn, const char *id, const char *owner, int max_recoveries,
                       bool hold, const char *why, char status[16], double *due_at);

/* Ids of channel's rows left 'processing' without progress for stale_s seconds
 * (their worker and its Redis list are gone), oldest first, at most limit. *ids
 * is a NULL-terminated array the caller frees with h_job_free_ids. */
h_result h_job_list_stale(PGconn *conn, const char *channel, int stale_s, int limit, char ***ids,
                          size_t *n);
void h_job_free_ids(char **ids);

/* Dead letters. */

/* channel's dead rows, newest first: id, attempts, recoveries, reason, last_error,
 * died_at (RFC 3339), user_id, notification_id. Caller PQclear()s *res. */
h_result h_job_dead_list(PGconn *conn, const char *channel, int limit, PGresult **res);

/* Dead rows of channel (one id, or all when id is NULL) back to 'queued' with their
 * attempts and recoveries reset, a 'replayed' event each and one audit_log row
 * naming actor (e.g. "herald-email dlq replay on host"). *ids as h_job_list_stale;
 * push them after COMMIT. */
h_result h_job_replay(PGconn *conn, const char *channel, const char *id, const char *actor,
                      char ***ids, size_t *n);

/* Dead rows of channel that died more than older_than_s ago (-1: all) become
 * 'failed' (reason dlq_purged), with a 'purged' event each and one audit_log row. */
h_result h_job_purge(PGconn *conn, const char *channel, long older_than_s, const char *actor,
                     char ***ids, size_t *n);

#endif

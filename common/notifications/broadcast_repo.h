/* broadcast_repo.h - SQL for broadcasts: bulk notifications and announcements, and the
 * bookkeeping of their fan-out (lease, cursor, count). Broadcasts come back in their wire
 * shape ({"id","object":"notification_batch"|"announcement",...}); json_t **
 * out-parameters are new references. */
#ifndef HERALD_BROADCAST_REPO_H
#define HERALD_BROADCAST_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_broadcast_row {
  const char *kind;            /* "bulk" or "announcement" */
  const char *target;          /* "list", "all", "users", "admins" */
  const json_t *user_ids;      /* target list: array of UUID strings (borrowed) */
  const json_t *request;       /* the send fields (borrowed) */
  const char *send_at;         /* RFC 3339 or NULL */
  const char *created_by, *created_by_type;
  const json_t *locales;       /* array of locales or languages, or NULL (borrowed) */
  const json_t *topics;        /* array of topic keys, or NULL (borrowed) */
};

/* Inserts a pending broadcast; recipients is counted now (and again when it starts). */
h_result h_broadcast_repo_insert(PGconn *conn, const struct h_broadcast_row *row, json_t **out);

/* A broadcast of kind; H_ERR_NOT_FOUND otherwise. */
h_result h_broadcast_repo_get(PGconn *conn, const char *id, const char *kind, json_t **out);

h_result h_broadcast_repo_list(PGconn *conn, const char *kind, const struct h_page *page,
                               json_t **data, bool *has_more);

/* Withdraws announcement id (lock it first, as for h_broadcast_repo_update): status
 * withdrawn (its fan-out stops), its unread in-app copies soft-deleted (*removed) and its
 * deliveries not yet sent skipped with reason withdrawn (*cancelled). *users (an array of
 * user ids, new reference): the feeds that changed, under their feed locks and with new
 * event_seq values for their streams; *out the announcement. H_ERR_NOT_FOUND when there is
 * no such announcement or it is already withdrawn. */
h_result h_broadcast_repo_withdraw(PGconn *conn, const char *id, long *removed,
                                   long *cancelled, json_t **users, json_t **out);

/* A broadcast of kind, locked FOR UPDATE, with its stored request as "stored". */
h_result h_broadcast_repo_lock(PGconn *conn, const char *id, const char *kind, json_t **out);

/* Replaces the stored request of broadcast id and rewrites the content (title, body,
 * action_url, data) of the copies already made and not deleted (*updated of them; *users,
 * new reference, the users whose feeds changed, as for withdraw); *out the announcement.
 * Its lease is dropped, so a running fan-out stops at its next batch and is claimed again
 * with the new request. Lock the row first (h_broadcast_repo_lock) so that this statement
 * sees every batch committed before. */
h_result h_broadcast_repo_update(PGconn *conn, const char *id, const json_t *request,
                                 long *updated, json_t **users, json_t **out);

/* ---- fan-out ---- */

/* A claimed broadcast (owned strings inside the JSON). */
struct h_broadcast_job {
  char id[37];
  char lease[37];
  char cursor[37];  /* "" before the first batch */
  json_t *request;  /* owned */
};

/* Claims the oldest runnable broadcast (pending or running with an expired lease, and
 * send_at reached) for lease_s seconds. H_ERR_NOT_FOUND when there is none. */
h_result h_broadcast_repo_claim(PGconn *conn, int lease_s, struct h_broadcast_job *job);

/* Locks the job's row if the lease is still ours (H_ERR_CONFLICT otherwise), then reads the
 * next batch of recipient ids after job->cursor into *res (column 0: id). */
h_result h_broadcast_repo_next_batch(PGconn *conn, const struct h_broadcast_job *job, int batch,
                                     PGresult **res);

/* Records a batch: cursor, count, a renewed lease, and completion when done. */
h_result h_broadcast_repo_progress(PGconn *conn, const struct h_broadcast_job *job,
                                   const char *cursor, int created, bool done, int lease_s);

/* Marks the job failed with a message. */
h_result h_broadcast_repo_fail(PGconn *conn, const struct h_broadcast_job *job,
                               const char *error);

/* Gives the lease up so another instance (or the next start) resumes at once. */
h_result h_broadcast_repo_release(PGconn *conn, const struct h_broadcast_job *job);

#endif

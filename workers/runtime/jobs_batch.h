/* jobs_batch.h - the PostgreSQL half of the queue protocol for a batch of ids
 * (--batch / HERALD_WORKER_BATCH): one claim statement, one device query and one
 * record statement per batch instead of per job. Every job keeps its own fencing
 * token: a batch item another claim has taken over is fenced out alone.
 *
 * The single-job functions of jobs.h stay the reference: whatever a batch claim
 * cannot settle by itself (an id not claimable now) is handed to h_job_claim. */
#ifndef HERALD_WORKER_JOBS_BATCH_H
#define HERALD_WORKER_JOBS_BATCH_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "queue/jobs.h"
#include "core/result.h"
#include "store/pg_array.h"

/* The result of one id of a batch claim. */
struct h_claim_item {
  const char *id;  /* borrowed from the caller */
  h_result result; /* as h_job_claim: H_OK (job filled), H_ERR_NOT_FOUND, H_ERR_CONFLICT */
  double due_at;   /* H_ERR_CONFLICT: when the row is due (unix seconds) */
  struct h_job job; /* H_OK: owned, h_job_free() it */
};

/* Claims items[0..n) (ids set by the caller, distinct) in one UPDATE ... WHERE id =
 * ANY(...) RETURNING, each with fencing_token + 1; the ids that statement did not
 * claim go through h_job_claim one by one (scheduled later, gone, or a claim of
 * ours whose reply was lost). H_OK when every item has its result; a database
 * code otherwise (H_ERR_UNAVAILABLE: retry the whole call; items are reset). */
h_result h_job_claim_batch(PGconn *conn, struct h_claim_item *items, size_t n,
                           const char *channel, const char *worker_id);

/* Loads the active devices of every job's user (as h_job_load_devices, at most 50
 * each, newest first) and the user's unread count, counted once per user, in one query. */
h_result h_job_load_devices_batch(PGconn *conn, struct h_job *const *jobs, size_t n);

/* Records outs[i] for jobs[i] (i < n) in one statement, so one transaction: each
 * row update guarded by its job's fencing token, a delivery_events row each (its
 * created_at the attempt's end, at[i] in unix seconds, as the batch is recorded
 * after its last attempt) and the push device deactivations. results[i] receives
 * H_OK (recorded, also when a previous call whose reply was lost had recorded it)
 * or H_ERR_CONFLICT (fenced out). Returns H_OK, or a database code with nothing
 * recorded (retry while H_ERR_UNAVAILABLE). */
h_result h_job_record_batch(PGconn *conn, struct h_job *const *jobs,
                            const struct h_job_outcome *outs, const double *at, size_t n,
                            h_result *results);

/* Undoes the claims of jobs[0..n) that were never attempted (a drain): back to
 * 'queued' with attempts - 1 and the fencing token bumped, when still held by the
 * job's token. Returns H_OK or a database code. */
h_result h_job_unclaim_batch(PGconn *conn, struct h_job *const *jobs, size_t n);

/* Pure helpers (unit-tested). */

/* "{id,id,...}" of the valid UUIDs among ids[0..n), a PostgreSQL array literal;
 * caller frees. */
char *h_job_uuid_array(const char *const *ids, size_t n);

/* The parameters h_job_record_batch sends: a binary array (store/pg_array.h) per column,
 * element i of each from jobs[i], outs[i] and at[i]. */
enum {
  H_OUTCOME_ID,         /* uuid: the job's delivery */
  H_OUTCOME_TOKEN,      /* int8: the fencing token its claim holds */
  H_OUTCOME_STATUS,     /* text: outs[i].status, the columns below as outs[i] has them */
  H_OUTCOME_EVENT,      /* text */
  H_OUTCOME_PROVIDER,   /* text or NULL */
  H_OUTCOME_MESSAGE_ID, /* text or NULL */
  H_OUTCOME_ERROR,      /* text or NULL */
  H_OUTCOME_REASON,     /* text or NULL */
  H_OUTCOME_DUE,        /* float8 unix seconds for a scheduled outcome, else NULL */
  H_OUTCOME_DURATION,   /* int4 milliseconds */
  H_OUTCOME_AT,         /* float8 unix seconds: the attempt's end */
  H_OUTCOME_META,       /* jsonb or NULL */
  H_OUTCOME_TOKENS,     /* jsonb: the device tokens to deactivate; NULL when none */
  H_OUTCOME_CALLS,      /* jsonb or NULL */
  H_OUTCOME_COLUMNS
};

/* Fills cols[] (any content is overwritten, not freed) from the n outcomes. False when an
 * array is invalid (a job id that is not a uuid). Free with h_job_outcome_arrays_free,
 * whatever it returned. */
bool h_job_outcome_arrays(struct h_job *const *jobs, const struct h_job_outcome *outs,
                          const double *at, size_t n, struct h_pg_array cols[H_OUTCOME_COLUMNS]);
void h_job_outcome_arrays_free(struct h_pg_array cols[H_OUTCOME_COLUMNS]);

#endif

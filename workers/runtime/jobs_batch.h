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
#include <stddef.h>

#include "queue/jobs.h"
#include "core/result.h"

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

/* The JSON array h_job_record_batch sends: one object per job with id, token,
 * status, event, duration, at and the non-NULL fields among provider, message_id,
 * error, reason, due (scheduled only), meta, tokens (non-empty only). Caller
 * json_decref()s. */
json_t *h_job_outcomes_json(struct h_job *const *jobs, const struct h_job_outcome *outs,
                            const double *at, size_t n);

#endif

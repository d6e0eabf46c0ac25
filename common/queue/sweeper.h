/* sweeper.h - keeps Redis in step with PostgreSQL for the delivery queues.
 *
 * The contract of a delivery row (deliveries) with the queues of common/queue/queue.h:
 *   queued     its id is (or should be) on herald:q:{<channel>}; due_at <= now()
 *   scheduled  its id waits in herald:delayed:{<channel>} scored by due_at (first sends
 *              delayed by send_at or quiet hours, and retries)
 *   in_app     never queued: sent by the API, or scheduled until send_at
 * A worker may claim a row whose status is queued or scheduled and whose due_at has
 * passed (a conditional UPDATE), so an id seen twice in Redis is harmless.
 *
 * One pass of the sweeper:
 *   1. promotes due ids from each delayed set to its ready list atomically (Lua:
 *      ZRANGEBYSCORE + ZREM + LPUSH in one script) and marks those rows queued;
 *   2. re-pushes rows left queued for longer than stale_s (Redis lost them, or was
 *      down at commit time); a row still queued after such a push waits twice as long
 *      before the next, up to 16 stale_s (deliveries.repushes), since it was most likely
 *      waiting behind a backlog;
 *   3. re-pushes scheduled rows overdue by more than stale_s (Redis lost the delayed
 *      set), marking them queued;
 *   4. marks due scheduled in-app deliveries sent.
 * Rows are picked with FOR UPDATE SKIP LOCKED and their updated_at is bumped in the
 * same statement, so two sweepers never push the same row in the same interval.
 *
 * Each function takes one PGconn and one struct h_redis owned by the calling thread. */
#ifndef HERALD_SWEEPER_H
#define HERALD_SWEEPER_H

#include <libpq-fe.h>
#include <stddef.h>

#include "queue/queue.h"
#include "store/redis.h"
#include "core/result.h"

struct h_sweeper_options {
  int stale_s; /* a queued row untouched this long is pushed again */
  int batch;   /* rows or ids per statement or script call */
};

struct h_sweep_stats {
  long promoted;     /* ids moved from a delayed set to a ready list */
  long repushed;     /* stale queued rows pushed again */
  long rescheduled;  /* overdue scheduled rows pushed from PostgreSQL */
  long in_app_sent;  /* scheduled in-app deliveries marked sent */
};

/* Moves up to limit ids scored <= now (unix seconds) from herald:delayed:{q} to
 * herald:q:{q} in one atomic script. *ids (may be NULL) receives them: a NULL-terminated
 * array the caller frees with h_sweeper_free_ids; *n their number. */
h_result h_sweeper_promote_due(struct h_redis *r, enum h_queue q, double now, int limit,
                               char ***ids, size_t *n);
void h_sweeper_free_ids(char **ids);

/* One full pass (see above); counts are added to *stats (may be NULL). Redis being down
 * is not an error (rows stay in PostgreSQL); PostgreSQL errors are returned. */
h_result h_sweeper_run_once(PGconn *conn, struct h_redis *r, const struct h_sweeper_options *opt,
                            struct h_sweep_stats *stats);

#endif

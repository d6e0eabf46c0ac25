/* group_commit.h - application-level group commit: request threads hand a prepared write
 * to a queue and wait; committer threads, each with its own PostgreSQL connection, take
 * everything queued (up to max_batch), write it in ONE transaction and wake every waiter
 * with its own result. One COMMIT (one WAL flush) then serves a whole batch, without
 * weakening durability: a waiter is answered only after its write committed.
 *
 * When the batch transaction fails (one item's user deleted meanwhile, a constraint...),
 * its items are written again one transaction each, so every waiter gets its own outcome.
 * There is no artificial wait by default: a batch is whatever queued up while the previous
 * COMMIT ran (natural batching under load; a lone request commits at once).
 *
 * The engine knows nothing of what is written: ops->write does the SQL of n items in the
 * open transaction, ops->after_commit (may be NULL) runs once per committed batch (the
 * Redis push of its delivery ids, and anything else that must follow the COMMIT) with the
 * items written, before the waiters are woken. after_commit and the wake-ups run on one
 * answering thread, so that a committer goes on to its next batch as soon as one has
 * committed; after_commit therefore runs beside the committers' writes, once per batch, in
 * the order the batches committed. */
#ifndef HERALD_GROUP_COMMIT_H
#define HERALD_GROUP_COMMIT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>

#include "store/db.h"
#include "core/result.h"

struct h_gc_item {
  void *arg;                /* the caller's write, borrowed */
  h_result result;          /* set by the committer */
  /* h_gc_submit_async: called once result is set, on the answering thread, instead of
   * waking a waiter; the item is the caller's again from that call on. */
  void (*on_done)(struct h_gc_item *item);
  /* private to the engine */
  sem_t done;               /* posted by the committer once result is set */
  struct h_gc_item *next;
};

struct h_gc_ops {
  /* Writes items[0..n) in the open transaction of conn; any error fails the batch. It may
   * refuse single items instead (a 422 of their own) by setting their result to an error
   * and writing nothing of them: the others commit, the refused keep their result. */
  h_result (*write)(PGconn *conn, struct h_gc_item *const *items, int n, void *batch,
                    void *ctx);
  /* After COMMIT, with the items whose write committed. */
  void (*after_commit)(struct h_gc_item *const *items, int n, void *ctx);
  /* write makes all its changes in one statement, atomic and committed on its own
   * (synchronous_commit still waits for the WAL flush before it returns): the engine sends
   * no BEGIN and COMMIT, two round trips less per batch. */
  bool one_statement;
  /* Optional: reads what the write of items[0..n) needs, on a connection of its own and
   * outside the write's transaction; it may refuse single items as write may. The engine
   * runs it on a preparing thread for the next batch while the committers write the one
   * before (and before write, on the committer's connection, when that failed or when the
   * batch is retried one item at a time). An error leaves the batch to the committer.
   * Whatever else the write can be given ready-made (its statement's parameters) prepare
   * may build too, off the committer's path: it leaves it in *batch (NULL on entry), which
   * write then receives (NULL without prepare) and release frees once the batch is
   * written, or prepared again. */
  h_result (*prepare)(PGconn *conn, struct h_gc_item *const *items, int n, void *ctx,
                      void **batch);
  void (*release)(void *batch, void *ctx); /* may be NULL when prepare leaves nothing */
};

struct h_gc_options {
  struct h_db_options db;  /* connection of each committer (strings copied) */
  int threads;             /* committers, >= 1 */
  int max_batch;           /* items per transaction, >= 1 */
  int wait_us;             /* extra wait for more items once one is queued (0: none) */
};

struct h_gc;

/* Creates the engine (ops and ctx borrowed, must outlive it); the committers start on the
 * first submit. Caller frees with h_gc_destroy. */
struct h_gc *h_gc_create(const struct h_gc_options *opt, const struct h_gc_ops *ops, void *ctx);

/* Queues item and blocks until its write committed or failed; returns item->result. */
h_result h_gc_submit(struct h_gc *gc, struct h_gc_item *item);

/* Queues item without waiting: item->on_done (set) runs once its write committed or failed,
 * on the answering thread, after the batch's after_commit. H_OK when queued; otherwise
 * (stopping, no committer) nothing was queued, on_done will not run, and the result is
 * also in item->result. The item must stay allocated until on_done. */
h_result h_gc_submit_async(struct h_gc *gc, struct h_gc_item *item);

/* Stops taking new work after draining: everything queued is committed and answered, then
 * the committers exit and are joined. NULL is a no-op. */
void h_gc_destroy(struct h_gc *gc);

/* Batches taken, items answered, and batches that failed and were retried one item per
 * transaction, so far (for logs and tests). */
void h_gc_stats(struct h_gc *gc, long *batches, long *items, long *retried);

/* Items queued and not yet taken by a committer. */
int h_gc_queued(struct h_gc *gc);

/* Upper bounds, in seconds and ascending, of the buckets of the batches' write times. */
#define H_GC_WRITE_BUCKETS 9
extern const double h_gc_write_bounds[H_GC_WRITE_BUCKETS];

/* How long the batches' writes took, from a committer taking the batch to its result: the
 * statements and the COMMIT with its WAL flush (and a failed batch's writes one item at a
 * time). counts[i] (i < H_GC_WRITE_BUCKETS): writes that took at most h_gc_write_bounds[i]
 * and more than the bound before; counts[H_GC_WRITE_BUCKETS]: the slower ones. *sum_s: their
 * total time. One write per batch counted in h_gc_stats. */
void h_gc_write_times(struct h_gc *gc, long counts[H_GC_WRITE_BUCKETS + 1], double *sum_s);

#endif

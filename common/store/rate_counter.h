/* rate_counter.h - fixed-window request counters: in Redis (shared by every API process, one
 * round trip for all the keys of a request), and in process when Redis is unreachable.
 *
 * A window starts at a key's first hit and lasts window_s seconds (INCR, then EXPIRE on the
 * first hit). When Redis does not answer, the same keys are counted in a bounded table in this
 * process for as long as Redis stays away (retried at most once a second): a limit keeps
 * holding, per process, instead of letting every request through. */
#ifndef HERALD_RATE_COUNTER_H
#define HERALD_RATE_COUNTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"
#include "store/redis.h"

struct h_rate_local;

/* One key counted for one request. */
struct h_rate_hit {
  const char *key; /* borrowed, e.g. "herald:rl:write:u:<id>" */
  int window_s;
  long limit;      /* the key's limit: sizes its lease (see h_rate_leases) */
  long count;      /* out: hits in the current window, this one included */
  long reset_s;    /* out: seconds until the window ends (>= 1) */
};

/* An in-process table of slots counters (rounded up to a power of two; the oldest windows are
 * evicted when full). Caller frees with h_rate_local_destroy. */
struct h_rate_local *h_rate_local_create(size_t slots);
void h_rate_local_destroy(struct h_rate_local *l);

/* Counts hit in the in-process table at time now_s (monotonic seconds). Thread-safe. */
void h_rate_local_hit(struct h_rate_local *l, struct h_rate_hit *hit, long now_s);

/* Leases: a process takes the hits of a key from Redis in blocks (INCRBY size: the block of
 * counts (c - size, c] is its own) and counts later requests from the block without a round
 * trip. A count is never handed out twice, so no window admits more than its limit whatever
 * the number of processes; a block's unused counts are lost when its window ends (a process
 * admits less, never more). The block is an eighth of what the key has left below its limit,
 * at most max_lease and at least 1: close to the limit every request goes to Redis, as
 * without leases (max_lease 1). Limits under H_RATE_LEASE_MIN_LIMIT (sign-in, password and
 * code checks: few requests, each a guess) are never leased. */
#define H_RATE_LEASE_MIN_LIMIT 64
struct h_rate_leases;

/* A table of slots leases (rounded up to a power of two; a key whose slot is taken by another
 * loses its lease). Caller frees with h_rate_leases_destroy. */
struct h_rate_leases *h_rate_leases_create(size_t slots, int max_lease);
void h_rate_leases_destroy(struct h_rate_leases *l);

/* The block to take for a key of limit whose count is known to be at least known. Pure. */
long h_rate_lease_size(long limit, long known, int max_lease);

/* Counts hit from its key's lease at now_ms (monotonic milliseconds); false when the lease is
 * used up, gone or from an ended window (hit untouched; *take: the block to ask for). */
bool h_rate_lease_take(struct h_rate_leases *l, struct h_rate_hit *hit, long long now_ms,
                       long *take);

/* Records the block (count - take, count] that Redis gave for hit, whose window ends ttl_ms
 * after now_ms, and counts hit as its first. */
void h_rate_lease_store(struct h_rate_leases *l, struct h_rate_hit *hit, long count, long take,
                        long long ttl_ms, long long now_ms);

/* Counts n hits: from their leases (leases may be NULL: none), the others through pool in one
 * round trip (pipelined), or in local when Redis fails or failed less than a second ago
 * (*local_used then true). Always fills every hit. */
void h_rate_count(struct h_redis_pool *pool, struct h_rate_local *local,
                  struct h_rate_leases *leases, struct h_rate_hit *hits, int n, bool *local_used);

#endif

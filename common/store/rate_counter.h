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
  long count;      /* out: hits in the current window, this one included */
  long reset_s;    /* out: seconds until the window ends (>= 1) */
};

/* An in-process table of slots counters (rounded up to a power of two; the oldest windows are
 * evicted when full). Caller frees with h_rate_local_destroy. */
struct h_rate_local *h_rate_local_create(size_t slots);
void h_rate_local_destroy(struct h_rate_local *l);

/* Counts hit in the in-process table at time now_s (monotonic seconds). Thread-safe. */
void h_rate_local_hit(struct h_rate_local *l, struct h_rate_hit *hit, long now_s);

/* Counts n hits: through pool in one round trip (pipelined), or in local when Redis fails or
 * failed less than a second ago (*local_used then true). Always fills every hit. */
void h_rate_count(struct h_redis_pool *pool, struct h_rate_local *local, struct h_rate_hit *hits,
                  int n, bool *local_used);

#endif

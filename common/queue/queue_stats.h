/* queue_stats.h - how many ids wait where, per queue (for operators). */
#ifndef HERALD_QUEUE_STATS_H
#define HERALD_QUEUE_STATS_H

#include "queue/queue.h"
#include "store/redis.h"
#include "core/result.h"

struct h_queue_counts {
  long long ready;      /* LLEN herald:q:{q} */
  long long processing; /* sum of LLEN over herald:q:{q}:proc:* (found with SCAN) */
  long long delayed;    /* ZCARD herald:delayed:{q} */
  long long dead;       /* LLEN herald:dlq:{q} */
  int workers;          /* processing lists found */
};

/* Counts for queue q. H_ERR_UNAVAILABLE when Redis is down. */
h_result h_queue_counts(struct h_redis *r, enum h_queue q, struct h_queue_counts *out);

#endif

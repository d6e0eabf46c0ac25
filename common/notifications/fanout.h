/* fanout.h - turning a broadcast (bulk send or announcement) into one notification per
 * recipient, in batches. Each batch is one transaction holding the notifications, their
 * deliveries, the broadcast's new cursor and count; the ids are pushed after COMMIT. A
 * lease on the broadcast row keeps two API instances apart; after a crash the lease runs
 * out and the fan-out resumes from the last committed cursor. */
#ifndef HERALD_FANOUT_H
#define HERALD_FANOUT_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store/redis.h"
#include "core/result.h"

struct h_fanout_options {
  int batch;                /* recipients per transaction */
  int lease_s;              /* how long a claim lasts without progress */
  const atomic_bool *stop;  /* set when the process stops (may be NULL) */
  int stream_shards;        /* HERALD_STREAM_SHARDS: the in-app recipients of each committed
                               batch are announced to the notification streams (0: not) */
};

/* Claims one runnable broadcast and fans it out until it completes, fails, loses its
 * lease or stop is set. *worked tells whether one was claimed. conn and r belong to the
 * calling thread. */
h_result h_fanout_run_one(PGconn *conn, struct h_redis *r, const struct h_fanout_options *opt,
                          bool *worked);

#endif

/* background.h - the API's background threads:
 *   sweeper  every HERALD_SWEEP_INTERVAL_S (0: off): common/queue/sweeper.h's pass (then, if
 *            scheduled in-app notifications fell due, an "all" notice to the streams), and the
 *            purge of Idempotency-Key records older than HERALD_IDEMPOTENCY_TTL_S;
 *   fan-out  every HERALD_FANOUT_POLL_MS (0: off): bulk notifications and announcements.
 * Each thread owns its PostgreSQL connection and its Redis connection (not the request
 * pools) and reconnects by itself; both stop promptly on h_background_stop. */
#ifndef HERALD_BACKGROUND_H
#define HERALD_BACKGROUND_H

#include "app/app.h"

struct h_background;

/* Starts the threads the configuration enables; app is borrowed and must outlive the
 * result, which the caller frees with h_background_stop. */
struct h_background *h_background_start(struct h_app *app);

/* Stops the threads (finishing the statement in progress) and frees bg. NULL is fine. */
void h_background_stop(struct h_background *bg);

#endif

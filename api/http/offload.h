/* offload.h - handlers that wait on something slow run on threads of their own.
 *
 * A libmicrohttpd thread serves many connections (epoll thread pool), so a handler that
 * blocks it stalls every other connection of that thread. Most handlers block only on
 * PostgreSQL or Redis, on this machine's own cores, for a fraction of a millisecond. Some
 * wait far longer: a payment provider's API (Stripe, M-Pesa) answers in hundreds of
 * milliseconds, or after HERALD_STRIPE_TIMEOUT_MS and its retries when it is down, and a
 * password's hash takes tens of milliseconds of CPU and waits for a core of its own. The
 * routes that do are marked `waits` in the route table (http/routes.c) and run here
 * instead:
 *   1. the middleware parks the request (http/park.h) and, once it is held, hands it to a
 *      thread of this pool; the HTTP thread goes back to its other connections;
 *   2. the pool's thread runs the handler as the HTTP thread would have, into a response of
 *      its own, then wakes the request;
 *   3. back on its connection's thread, the request takes that response (status, headers,
 *      body) and the middleware closes it as any other.
 *
 * HERALD_HTTP_OFFLOAD_THREADS sets the pool's threads (0: none, every handler runs on its
 * HTTP thread). Where a request cannot park (select mode, the probe port) its handler runs
 * on the HTTP thread, as it does when the pool is stopping. */
#ifndef HERALD_OFFLOAD_H
#define HERALD_OFFLOAD_H

#include <stdbool.h>

#include "http/http.h"

struct h_offload;

/* Starts threads threads (named "offload"); NULL when threads is 0 or none could start. */
struct h_offload *h_offload_start(int threads);

/* Runs whatever is queued, then joins the threads: every request handed over has been woken
 * when it returns. The HTTP server must still run (the wake-ups resume its connections).
 * NULL is a no-op. */
void h_offload_stop(struct h_offload *o);

/* Frees a stopped pool (NULL: no-op). */
void h_offload_free(struct h_offload *o);

/* In a handler's place, on the HTTP thread: parks rq and keeps run(rq) for the pool, to be
 * handed over by h_offload_submit once the middleware holds rq. run replies as a handler
 * does. False when rq cannot go (no pool, stopping, or its connection cannot park): the
 * caller runs it itself. */
bool h_offload_begin(struct h_offload *o, struct h_req *rq, void (*run)(struct h_req *rq));

/* The middleware's side, after h_park_hold(rq): hands rq to the pool when h_offload_begin
 * kept it (a no-op otherwise). rq belongs to the pool's thread until it wakes it. */
void h_offload_submit(struct h_req *rq);

struct h_offload_stats {
  int threads;       /* running */
  int busy;          /* running a handler now */
  int queued;        /* handed over, waiting for a thread */
  unsigned long ran; /* handlers run, ever */
};

/* The pool's figures now (all 0 for NULL), for /metrics and the tests. */
void h_offload_stats(struct h_offload *o, struct h_offload_stats *out);

#endif

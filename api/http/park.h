/* park.h - a request that waits for work done on another thread without holding its
 * libmicrohttpd thread.
 *
 * A POST /notifications waits for the group commit (store/group_commit.h) to write it: a few
 * milliseconds in which its thread did nothing but sleep on a semaphore and be woken, two
 * context switches per request, one thread per request in flight, so that a batch could
 * never hold more sends than there were threads. Parked, the request's connection is
 * suspended (MHD_suspend_connection) and its thread goes on serving other connections; the
 * work's completion resumes it (MHD_resume_connection, from any thread), and the connection's
 * thread answers it on its next turn, one wake-up for every connection it resumed at once.
 *
 * How a request parks and comes back, through the middleware (http/middleware.c):
 *   1. the handler calls h_park(rq, resume, state), then hands the work over; it returns
 *      without a reply. The middleware keeps rq (h_park_hold) and gives ulfius a response it
 *      cannot send (status 0: MHD refuses it), so nothing is queued on the connection;
 *   2. the work's thread calls h_park_wake(rq) once, when state holds the outcome;
 *   3. MHD calls its access handler for the request again; ulfius dispatches it again with a
 *      new response, and the middleware finds rq (h_park_take), attaches the response and
 *      runs resume(rq, state), which replies as the handler would have; the middleware then
 *      closes the request as any other (security headers, metrics, the access log, timed
 *      from the first pass);
 *   4. unless the client left: MHD then closes the resumed connection without calling its
 *      access handler again, and the middleware's completion callback (h_mw_request_completed)
 *      takes rq (h_park_take_closed) and finishes it the same way into a response it discards.
 *
 * ulfius 2.7 returns MHD_NO from its access handler when the response it built could not be
 * queued, which tells MHD to close the connection, and gives no other way to leave a request
 * unanswered. So this file puts its own access handler in front of ulfius's: herald-api
 * defines MHD_start_daemon, which the dynamic linker binds ulfius's call to (an executable's
 * definitions come first), and which starts the daemon through libmicrohttpd's
 * MHD_start_daemon_va with that handler. The handler records the connection being dispatched
 * (for h_park) and answers MHD_YES for a request that parked. Only daemons started with
 * MHD_ALLOW_SUSPEND_RESUME park (the main listener in epoll mode); elsewhere h_park_possible
 * is false and handlers wait as before. */
#ifndef HERALD_PARK_H
#define HERALD_PARK_H

#include <stdbool.h>
#include <ulfius.h>

#include "http/http.h"

/* True when rq, in its handler, can park: its daemon suspends connections. */
bool h_park_possible(const struct h_req *rq);

/* Parks rq (h_park_possible must be true): suspends its connection now, so call it before
 * handing the work to another thread. The handler then returns without replying. resume
 * and state are kept for step 3. */
void h_park(struct h_req *rq, void (*resume)(struct h_req *rq, void *state), void *state);

/* Undoes h_park when the work could not be handed over after all: the handler replies in
 * this pass, as without parking. */
void h_park_cancel(struct h_req *rq);

/* Once, from any thread, when the parked work is done: rq comes back on its connection's
 * thread (step 3). Neither rq nor its state may be touched by the caller afterwards. */
void h_park_wake(struct h_req *rq);

/* The middleware's side. */

/* Keeps a parked rq (step 1), with the headers its response carried so far. */
void h_park_hold(struct h_req *rq);

/* The parked rq of request coming back (step 3), taken off the kept ones, with the kept
 * headers put on response; NULL when request did not park. */
struct h_req *h_park_take(const struct _u_request *request, struct _u_response *response);

/* The parked rq of connection, which MHD is closing without a second pass (its client left
 * after the request was resumed), taken off the kept ones as h_park_take does; NULL when
 * none is kept or its work is not done yet (h_park_wake has not run: it still owns rq). The
 * caller finishes rq into response. A kept rq left behind would be found again by a later
 * request whose ulfius request took the freed one's address, and answered with its reply. */
struct h_req *h_park_take_closed(const struct MHD_Connection *connection,
                                 struct _u_response *response);

/* True when h_park_take_closed would take a request of connection (cheap when none is
 * kept on this thread: every request's completion asks). */
bool h_park_closed_kept(const struct MHD_Connection *connection);

/* How many requests are parked (kept and not yet taken), in this process. */
int h_park_count(void);

#endif

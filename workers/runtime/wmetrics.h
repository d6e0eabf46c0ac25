/* wmetrics.h - a worker's Prometheus metrics: jobs by outcome, provider-call
 * latency, queue depths, jobs in flight, reconnects and watchdog cuts; served as
 * text on 127.0.0.1:<port>/metrics by a small thread. Thread-safe; pointers taken
 * are borrowed. */
#ifndef HERALD_WMETRICS_H
#define HERALD_WMETRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/result.h"

enum h_outcome {
  H_OUT_SENT,
  H_OUT_RETRY,
  H_OUT_FAILED,
  H_OUT_DEAD,
  H_OUT_SKIPPED,
  H_OUT_HELD,
  H_OUT_DROPPED,     /* an id whose row was not claimable (duplicate, already done) */
  H_OUT_FENCED,      /* the outcome lost to a newer claim */
  H_OUT_RECOVERED,   /* moved back from a dead worker */
  H_OUT_RETURNED,    /* handed back unstarted on shutdown */
  H_OUT_THROTTLED,   /* over a user's hourly limit (core/flood.h) */
  H_OUT_DIGEST,      /* over it, moved to the category's next digest */
  H_OUT_CAPPED,      /* over the channel's daily cap */
  H_OUT_COUNT
};

enum h_depth { H_DEPTH_READY, H_DEPTH_PROCESSING, H_DEPTH_DELAYED, H_DEPTH_DEAD, H_DEPTH_COUNT };

struct h_wmetrics;

/* Caller frees with h_wmetrics_destroy. queue is copied. */
struct h_wmetrics *h_wmetrics_create(const char *queue);
void h_wmetrics_destroy(struct h_wmetrics *m);

void h_wmetrics_outcome(struct h_wmetrics *m, enum h_outcome o);
void h_wmetrics_latency(struct h_wmetrics *m, double seconds);
void h_wmetrics_in_flight(struct h_wmetrics *m, int delta);
void h_wmetrics_depth(struct h_wmetrics *m, enum h_depth d, long long value);
void h_wmetrics_reconnect(struct h_wmetrics *m);
void h_wmetrics_watchdog(struct h_wmetrics *m);
unsigned long long h_wmetrics_count(struct h_wmetrics *m, enum h_outcome o);

/* Providers of the channel, in order (at most 4; names borrowed for m's life). */
#define H_WMETRICS_PROVIDERS 4
enum h_call { H_CALL_OK, H_CALL_RETRY, H_CALL_PERMANENT, H_CALL_BREAKER_OPEN, H_CALL_COUNT };
void h_wmetrics_providers(struct h_wmetrics *m, const char *const *names, int n, bool breakers);
/* One call of provider i ended as r (H_CALL_BREAKER_OPEN: not made, its breaker is open). */
void h_wmetrics_call(struct h_wmetrics *m, int i, enum h_call r);
/* A job moved from one provider to the next after a retryable failure. */
void h_wmetrics_failover(struct h_wmetrics *m);
/* The last known state of provider i's breaker (0 closed, 1 open, 2 half-open), and a
 * change this process made to it. */
void h_wmetrics_breaker(struct h_wmetrics *m, int i, int state);
void h_wmetrics_breaker_transition(struct h_wmetrics *m, int i, int to);

/* Writes the text exposition format. */
void h_wmetrics_render(struct h_wmetrics *m, FILE *out);

/* Serves GET /metrics on 127.0.0.1:port (0 picks one; *bound receives it) in a
 * thread until h_wmetrics_serve_stop. H_ERR_UNAVAILABLE when the port is taken. */
h_result h_wmetrics_serve_start(struct h_wmetrics *m, int port, int *bound);
void h_wmetrics_serve_stop(struct h_wmetrics *m);

#endif

/* breaker.h - one circuit breaker per provider of a channel, its state in Redis
 * (hash herald:cb:{<queue>}:<provider>) so every worker of the channel shares it.
 *
 * closed: calls go through; a failure run of HERALD_BREAKER_FAILURES, or an error rate
 * of HERALD_BREAKER_ERROR_RATE % over at least HERALD_BREAKER_MIN_CALLS calls in a
 * HERALD_BREAKER_WINDOW_S window, opens it. open: no calls until
 * HERALD_BREAKER_COOLDOWN_MS passed, then one probe (half_open, one at a time; a probe
 * whose worker vanished expires after the provider timeout). The probe's success
 * closes it, its failure opens it again. Each check and report is one Lua script,
 * atomic, on the Redis clock.
 *
 * Ownership: every pointer taken is borrowed for the call. */
#ifndef HERALD_WORKER_BREAKER_H
#define HERALD_WORKER_BREAKER_H

#include <stdbool.h>
#include <stddef.h>

#include "rt.h"

enum h_breaker_state { H_BREAKER_CLOSED, H_BREAKER_OPEN, H_BREAKER_HALF_OPEN };

/* The Redis key of provider's breaker on rt's channel into out. */
void h_breaker_key(const struct h_rt *rt, const char *provider, char *out, size_t outlen);

/* "closed"/"open"/"half_open" -> state; unknown text is closed. Pure. */
enum h_breaker_state h_breaker_parse(const char *text);

/* May t call provider i now? True for a closed breaker (a closed state this thread saw
 * in the last 200 ms is trusted without asking Redis), or when this call is the
 * half-open probe. Redis trouble lets the call through (the breaker fails open). */
bool h_breaker_allow(struct h_wthread *t, int i);

/* Reports the result of a call to provider i (ok: it answered, even with a permanent
 * refusal; !ok: timeout, 5xx, 429...). Successes on a breaker this thread saw closed are
 * kept back and sent with its next report, at most 200 ms later (one Redis call per
 * thread and provider in that time instead of one per call). */
void h_breaker_report(struct h_wthread *t, int i, bool ok);

/* Sends the successes t kept back (before the thread ends). */
void h_breaker_flush(struct h_wthread *t);

/* Reads every provider's state from Redis into the metrics (the maintenance thread). */
void h_breaker_sample(struct h_rt *rt, struct h_wthread *m);

#endif

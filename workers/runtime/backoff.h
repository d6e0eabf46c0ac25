/* backoff.h - retry delays (pure functions, unit-tested).
 *
 * Attempt n (1-based) waits d = min(max, base * 2^(n-1)) with "equal jitter": a
 * uniform value in [d/2, d], so retries spread out yet stay within known bounds.
 * A provider's Retry-After is a floor: the job never comes back earlier.
 * h_rng_unit updates the caller's *state (borrowed). */
#ifndef HERALD_BACKOFF_H
#define HERALD_BACKOFF_H

#include <stdint.h>

/* The un-jittered delay of attempt n, in ms. */
long long h_backoff_ceiling_ms(int attempt, int base_ms, int max_ms);

/* The jittered delay of attempt n; r01 is a uniform number in [0, 1). */
long long h_backoff_ms(int attempt, int base_ms, int max_ms, double r01);

/* h_backoff_ms, raised to retry_after_s (when >= 0) and capped at 7 days. */
long long h_retry_delay_ms(int attempt, int base_ms, int max_ms, int retry_after_s, double r01);

/* xorshift64* step on *state (never 0); a uniform double in [0, 1). */
double h_rng_unit(uint64_t *state);

#endif

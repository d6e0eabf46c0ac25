/* ratelimit.h - request limits on every route, per client IP and per caller, by route group.
 *
 * Groups and their limits (HERALD_* variables, per window):
 *   auth      each /auth endpoint apart, per client IP (HERALD_AUTH_RATE_LIMIT); the
 *             verification e-mail's resend also per user (HERALD_RATE_LIMIT_VERIFY_RESEND)
 *   password  POST /users/me/password, per user (HERALD_RATE_LIMIT_PASSWORD) and per IP
 *   webhooks  provider callbacks, per IP
 *   admin     routes that need an admin, per admin and per IP
 *   read      other GETs, write: other methods; per user and per IP
 * API keys are counted per key (HERALD_RATE_LIMIT_SERVICE) on every route, not per IP. IPv6
 * clients share one counter per /64. /healthz, /readyz, /metrics and the probe listener are not
 * limited. Counting costs one Redis round trip per request (both keys pipelined); without Redis
 * an in-process limiter counts instead (store/rate_counter.h). */
#ifndef HERALD_RATELIMIT_H
#define HERALD_RATELIMIT_H

#include <stdbool.h>

#include "http/http.h"
#include "http/routes.h"

/* Counts rq (after its authentication, successful or not) against route's limits; when one
 * is exceeded replies 429 rate_limited with Retry-After and RateLimit-Limit/-Remaining/-Reset
 * (replacing an answer already decided) and returns false. */
bool h_rate_limit_route(struct h_req *rq, const struct h_route *route);

#endif

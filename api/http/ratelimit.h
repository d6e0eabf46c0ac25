/* ratelimit.h - fixed-window request limits in Redis, per client IP and bucket.
 * Without Redis the limit fails open (the request passes) and a security line says so. */
#ifndef HERALD_RATELIMIT_H
#define HERALD_RATELIMIT_H

#include <stdbool.h>

#include "http/http.h"

/* Counts one request of rq's IP in bucket; when over limit per window_s seconds,
 * replies 429 rate_limited with Retry-After and returns false. */
bool h_rate_limit(struct h_req *rq, const char *bucket, int limit, int window_s);

#endif

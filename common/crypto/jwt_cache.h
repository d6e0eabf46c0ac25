/* jwt_cache.h - verified access tokens, remembered until they expire.
 *
 * Verifying a JWT (base64, JSON parse, HMAC or RSA) costs more than the rest of a
 * simple authenticated GET. Verification is a pure function of the token, the keys
 * and the clock, so a token that verified once stays valid until its exp: the cache
 * keys on the whole token (compared in constant time) and answers with its claims
 * while exp is in the future. Fixed size, no allocation on a hit, striped locks. */
#ifndef HERALD_JWT_CACHE_H
#define HERALD_JWT_CACHE_H

#include "crypto/jwt_tokens.h"

struct h_jwt_cache;

/* The API's size: 8,192 tokens of at most a few hundred bytes, about 3 MB when full. */
#define H_JWT_CACHE_SLOTS 8192

/* A cache of up to slots tokens (rounded up to a power of two; 0: no caching, every
 * call verifies). Free with h_jwt_cache_free. */
struct h_jwt_cache *h_jwt_cache_new(size_t slots);
void h_jwt_cache_free(struct h_jwt_cache *cache);

/* h_jwt_verify through the cache: the same result and claims. cache may be NULL. */
h_result h_jwt_verify_cached(struct h_jwt_cache *cache, const struct h_jwt_config *cfg,
                             const char *token, long now, struct h_jwt_claims *out);

/* Hits and misses so far (for tests and /metrics). */
void h_jwt_cache_stats(struct h_jwt_cache *cache, unsigned long long *hits,
                       unsigned long long *misses);

#endif

/* jwt_cache.c - see jwt_cache.h. */
#include "crypto/jwt_cache.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"

#define STRIPES 64

struct slot {
  char *token; /* owned, NULL when empty */
  size_t len;
  struct h_jwt_claims claims;
};

struct h_jwt_cache {
  size_t mask; /* slots - 1 */
  struct slot *slots;
  pthread_mutex_t locks[STRIPES];
  atomic_ullong hits, misses;
};

struct h_jwt_cache *h_jwt_cache_new(size_t slots) {
  if (slots == 0) {
    return NULL;
  }
  size_t n = 1;
  while (n < slots) {
    n <<= 1;
  }
  struct h_jwt_cache *c = h_calloc(1, sizeof(*c));
  c->mask = n - 1;
  c->slots = h_calloc(n, sizeof(struct slot));
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_init(&c->locks[i], NULL);
  }
  return c;
}

void h_jwt_cache_free(struct h_jwt_cache *cache) {
  if (cache == NULL) {
    return;
  }
  for (size_t i = 0; i <= cache->mask; i++) {
    free(cache->slots[i].token);
  }
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_destroy(&cache->locks[i]);
  }
  free(cache->slots);
  free(cache);
}

/* FNV-1a over the token's last 32 bytes: its signature, which an issuer cannot
 * steer without the key, so slots spread evenly. */
static size_t slot_of(const struct h_jwt_cache *c, const char *token, size_t len) {
  const char *p = len > 32 ? token + len - 32 : token;
  return (size_t)h_fnv1a(p) & c->mask;
}

static bool lookup(struct h_jwt_cache *c, size_t i, const char *token, size_t len, long now,
                   struct h_jwt_claims *out) {
  pthread_mutex_t *lock = &c->locks[i % STRIPES];
  pthread_mutex_lock(lock);
  const struct slot *s = &c->slots[i];
  bool hit = s->token != NULL && s->len == len && s->claims.exp > now &&
             CRYPTO_memcmp(s->token, token, len) == 0;
  if (hit) {
    *out = s->claims;
  }
  pthread_mutex_unlock(lock);
  return hit;
}

static void store(struct h_jwt_cache *c, size_t i, const char *token, size_t len,
                  const struct h_jwt_claims *claims) {
  char *copy = h_strndup(token, len);
  pthread_mutex_t *lock = &c->locks[i % STRIPES];
  pthread_mutex_lock(lock);
  struct slot *s = &c->slots[i];
  char *old = s->token;
  s->token = copy;
  s->len = len;
  s->claims = *claims;
  pthread_mutex_unlock(lock);
  free(old);
}

h_result h_jwt_verify_cached(struct h_jwt_cache *cache, const struct h_jwt_config *cfg,
                             const char *token, long now, struct h_jwt_claims *out) {
  if (cache == NULL || token == NULL) {
    return h_jwt_verify(cfg, token, now, out);
  }
  size_t len = strlen(token);
  size_t i = slot_of(cache, token, len);
  if (lookup(cache, i, token, len, now, out)) {
    atomic_fetch_add(&cache->hits, 1);
    return H_OK;
  }
  atomic_fetch_add(&cache->misses, 1);
  h_result r = h_jwt_verify(cfg, token, now, out);
  if (r == H_OK) {
    store(cache, i, token, len, out);
  }
  return r;
}

void h_jwt_cache_stats(struct h_jwt_cache *cache, unsigned long long *hits,
                       unsigned long long *misses) {
  *hits = cache != NULL ? atomic_load(&cache->hits) : 0;
  *misses = cache != NULL ? atomic_load(&cache->misses) : 0;
}

/* rate_counter.c - fixed-window counters in Redis (INCR, EXPIRE NX, TTL, pipelined) with an
 * in-process table taking over while Redis is unreachable. */
#include "store/rate_counter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"

#define PROBES 4
#define MAX_KEYS 4

struct slot {
  uint64_t hash;
  long window_end; /* monotonic seconds; 0: free */
  long count;
};

struct h_rate_local {
  pthread_mutex_t lock;
  size_t mask;
  struct slot *slots;
  atomic_long redis_retry_at; /* monotonic second before which Redis is not tried */
};

/* slots rounded up to a power of two, at least 16. */
static size_t table_size(size_t slots) {
  size_t n = 16;
  while (n < slots) {
    n <<= 1;
  }
  return n;
}

struct h_rate_local *h_rate_local_create(size_t slots) {
  size_t n = table_size(slots);
  struct h_rate_local *l = h_calloc(1, sizeof(*l));
  pthread_mutex_init(&l->lock, NULL);
  l->mask = n - 1;
  l->slots = h_calloc(n, sizeof(*l->slots));
  atomic_init(&l->redis_retry_at, 0);
  return l;
}

void h_rate_local_destroy(struct h_rate_local *l) {
  if (l != NULL) {
    pthread_mutex_destroy(&l->lock);
    free(l->slots);
    free(l);
  }
}

static uint64_t fnv1a(const char *s) {
  return h_fnv1a(s) | 1; /* never 0 */
}

/* The slot of hash among its PROBES neighbours: its own, else the one whose window ended
 * first (a free or expired one when there is). Called under l->lock. */
static struct slot *find_slot(struct h_rate_local *l, uint64_t hash) {
  struct slot *oldest = NULL;
  for (size_t i = 0; i < PROBES; i++) {
    struct slot *s = &l->slots[(hash + i) & l->mask];
    if (s->hash == hash) {
      return s;
    }
    if (oldest == NULL || s->window_end < oldest->window_end) {
      oldest = s;
    }
  }
  oldest->hash = hash;
  oldest->window_end = 0;
  oldest->count = 0;
  return oldest;
}

void h_rate_local_hit(struct h_rate_local *l, struct h_rate_hit *hit, long now_s) {
  uint64_t hash = fnv1a(hit->key);
  pthread_mutex_lock(&l->lock);
  struct slot *s = find_slot(l, hash);
  if (s->window_end <= now_s) {
    s->window_end = now_s + hit->window_s;
    s->count = 0;
  }
  hit->count = ++s->count;
  hit->reset_s = s->window_end - now_s;
  pthread_mutex_unlock(&l->lock);
}

static long now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec;
}

/* ---- leases ---- */

struct lease {
  uint64_t hash;
  long long until_ms; /* the end of its window (monotonic ms); 0: free */
  long next, end;     /* the counts left: next..end */
  long known;         /* the key's count in Redis when the block was taken */
};

struct h_rate_leases {
  pthread_mutex_t lock;
  size_t mask;
  int max_lease;
  struct lease *slots;
};

struct h_rate_leases *h_rate_leases_create(size_t slots, int max_lease) {
  size_t n = table_size(slots);
  struct h_rate_leases *l = h_calloc(1, sizeof(*l));
  pthread_mutex_init(&l->lock, NULL);
  l->mask = n - 1;
  l->max_lease = max_lease < 1 ? 1 : max_lease;
  l->slots = h_calloc(n, sizeof(*l->slots));
  return l;
}

void h_rate_leases_destroy(struct h_rate_leases *l) {
  if (l != NULL) {
    pthread_mutex_destroy(&l->lock);
    free(l->slots);
    free(l);
  }
}

long h_rate_lease_size(long limit, long known, int max_lease) {
  if (limit < H_RATE_LEASE_MIN_LIMIT) {
    return 1; /* small limits (sign-in, password, codes): every request counted in Redis */
  }
  long size = (limit - known) / 8;
  if (size > max_lease) {
    size = max_lease;
  }
  return size < 1 ? 1 : size;
}

/* The lease of hash, or NULL; with claim, the slot to put it in (its own, else the one whose
 * window ends first among its PROBES neighbours). Called under l->lock. */
static struct lease *find_lease(struct h_rate_leases *l, uint64_t hash, bool claim) {
  struct lease *oldest = NULL;
  for (size_t i = 0; i < PROBES; i++) {
    struct lease *s = &l->slots[(hash + i) & l->mask];
    if (s->hash == hash) {
      return s;
    }
    if (oldest == NULL || s->until_ms < oldest->until_ms) {
      oldest = s;
    }
  }
  return claim ? oldest : NULL;
}

static long reset_of(long long ttl_ms) { return ttl_ms > 1000 ? (long)((ttl_ms + 999) / 1000) : 1; }

bool h_rate_lease_take(struct h_rate_leases *l, struct h_rate_hit *hit, long long now_ms,
                       long *take) {
  uint64_t hash = fnv1a(hit->key);
  bool taken = false;
  pthread_mutex_lock(&l->lock);
  struct lease *s = find_lease(l, hash, false);
  bool live = s != NULL && s->until_ms > now_ms;
  if (live && s->next <= s->end) {
    hit->count = s->next++;
    hit->reset_s = reset_of(s->until_ms - now_ms);
    taken = true;
  }
  *take = h_rate_lease_size(hit->limit, live ? s->known : 0, l->max_lease);
  pthread_mutex_unlock(&l->lock);
  return taken;
}

void h_rate_lease_store(struct h_rate_leases *l, struct h_rate_hit *hit, long count, long take,
                        long long ttl_ms, long long now_ms) {
  hit->count = count - take + 1;
  hit->reset_s = reset_of(ttl_ms);
  if (take <= 1 || ttl_ms <= 0) {
    return; /* nothing left to lend */
  }
  uint64_t hash = fnv1a(hit->key);
  pthread_mutex_lock(&l->lock);
  struct lease *s = find_lease(l, hash, true);
  *s = (struct lease){.hash = hash, .until_ms = now_ms + ttl_ms, .next = hit->count + 1,
                      .end = count, .known = count};
  pthread_mutex_unlock(&l->lock);
}

/* ---- Redis ---- */

/* Counts hits[i] by take[i] through r in one round trip: per key INCRBY, PEXPIRE NX (a TTL
 * only on a key that has none: the first hit of a window, also when the key expired between
 * two commands) and PTTL, pipelined. No script: three O(1) commands cost Redis less than one
 * EVAL. Fills count[i] (the key's count, this block included) and ttl_ms[i]. H_OK when every
 * reply is an integer. */
static h_result count_redis(struct h_redis *r, struct h_rate_hit *const *hits, const long *take,
                            int n, long *count, long long *ttl_ms) {
  enum { PER_KEY = 3 };
  char windows[MAX_KEYS][24], takes[MAX_KEYS][24];
  const char *argvs[MAX_KEYS * PER_KEY][4];
  const char **vec[MAX_KEYS * PER_KEY] = {NULL};
  int argcs[MAX_KEYS * PER_KEY] = {0};
  redisReply *replies[MAX_KEYS * PER_KEY];
  for (int i = 0; i < n; i++) {
    snprintf(windows[i], sizeof(windows[i]), "%lld", (long long)hits[i]->window_s * 1000);
    snprintf(takes[i], sizeof(takes[i]), "%ld", take[i]);
    const char *cmds[PER_KEY][4] = {{"INCRBY", hits[i]->key, takes[i], NULL},
                                    {"PEXPIRE", hits[i]->key, windows[i], "NX"},
                                    {"PTTL", hits[i]->key, NULL, NULL}};
    static const int counts[PER_KEY] = {3, 4, 2};
    for (int k = 0; k < PER_KEY; k++) {
      memcpy(argvs[i * PER_KEY + k], cmds[k], sizeof(cmds[k]));
      vec[i * PER_KEY + k] = argvs[i * PER_KEY + k];
      argcs[i * PER_KEY + k] = counts[k];
    }
  }
  h_result res = h_redis_pipeline(r, n * PER_KEY, argcs, (const char **const *)vec, replies);
  for (int i = 0; i < n * PER_KEY; i++) {
    if (res == H_OK && (replies[i] == NULL || replies[i]->type != REDIS_REPLY_INTEGER)) {
      res = H_ERR_INVALID;
    }
  }
  for (int i = 0; res == H_OK && i < n; i++) {
    count[i] = (long)replies[i * PER_KEY]->integer;
    ttl_ms[i] = (long long)replies[i * PER_KEY + 2]->integer;
  }
  for (int i = 0; i < n * PER_KEY; i++) {
    freeReplyObject(replies[i]);
  }
  return res;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts the hits no lease served (ask[0..m), blocks of take[i]) through Redis; H_OK or the
 * failure (none counted then). */
static h_result count_remote(struct h_redis_pool *pool, struct h_rate_leases *leases,
                             struct h_rate_hit *const *ask, const long *take, int m) {
  long count[MAX_KEYS];
  long long ttl_ms[MAX_KEYS];
  struct h_redis *r = NULL;
  h_result res = h_redis_acquire(pool, &r);
  if (res == H_OK) {
    res = count_redis(r, ask, take, m, count, ttl_ms);
  }
  h_redis_release(pool, r);
  long long now = now_ms();
  for (int i = 0; res == H_OK && i < m; i++) {
    if (leases != NULL) {
      h_rate_lease_store(leases, ask[i], count[i], take[i], ttl_ms[i], now);
    } else {
      ask[i]->count = count[i];
      ask[i]->reset_s = reset_of(ttl_ms[i]);
    }
  }
  return res;
}

void h_rate_count(struct h_redis_pool *pool, struct h_rate_local *local,
                  struct h_rate_leases *leases, struct h_rate_hit *hits, int n, bool *local_used) {
  struct h_rate_hit *ask[MAX_KEYS];
  long take[MAX_KEYS];
  int m = 0;
  long long start_ms = now_ms();
  n = n > MAX_KEYS ? MAX_KEYS : n;
  *local_used = false;
  for (int i = 0; i < n; i++) {
    take[m] = 1;
    if (leases == NULL || !h_rate_lease_take(leases, &hits[i], start_ms, &take[m])) {
      ask[m++] = &hits[i];
    }
  }
  if (m == 0) {
    return;
  }
  long now = now_s();
  h_result res = H_ERR_UNAVAILABLE;
  if (now >= atomic_load(&local->redis_retry_at)) {
    res = count_remote(pool, leases, ask, take, m);
    if (res != H_OK) {
      atomic_store(&local->redis_retry_at, now + 1);
    }
  }
  *local_used = res != H_OK;
  for (int i = 0; res != H_OK && i < m; i++) {
    h_rate_local_hit(local, ask[i], now);
  }
}

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

struct h_rate_local *h_rate_local_create(size_t slots) {
  size_t n = 16;
  while (n < slots) {
    n <<= 1;
  }
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
  uint64_t h = 1469598103934665603ULL;
  for (; *s != '\0'; s++) {
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  }
  return h | 1; /* never 0 */
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

/* Counts every hit through r in one round trip: per key INCR, EXPIRE NX (a TTL only on a key
 * that has none: the first hit of a window, also when the key expired between two commands)
 * and TTL, pipelined. No script: three O(1) commands cost Redis less than one EVAL. H_OK when
 * every reply is an integer. */
static h_result count_redis(struct h_redis *r, struct h_rate_hit *hits, int n) {
  enum { PER_KEY = 3 };
  char windows[MAX_KEYS][16];
  const char *argvs[MAX_KEYS * PER_KEY][4];
  const char **vec[MAX_KEYS * PER_KEY] = {NULL};
  int argcs[MAX_KEYS * PER_KEY] = {0};
  redisReply *replies[MAX_KEYS * PER_KEY];
  for (int i = 0; i < n; i++) {
    snprintf(windows[i], sizeof(windows[i]), "%d", hits[i].window_s);
    const char *cmds[PER_KEY][4] = {{"INCR", hits[i].key, NULL, NULL},
                                    {"EXPIRE", hits[i].key, windows[i], "NX"},
                                    {"TTL", hits[i].key, NULL, NULL}};
    static const int counts[PER_KEY] = {2, 4, 2};
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
    long ttl = (long)replies[i * PER_KEY + 2]->integer;
    hits[i].count = (long)replies[i * PER_KEY]->integer;
    hits[i].reset_s = ttl > 0 ? ttl : 1;
  }
  for (int i = 0; i < n * PER_KEY; i++) {
    freeReplyObject(replies[i]);
  }
  return res;
}

void h_rate_count(struct h_redis_pool *pool, struct h_rate_local *local, struct h_rate_hit *hits,
                  int n, bool *local_used) {
  long now = now_s();
  h_result res = H_ERR_UNAVAILABLE;
  n = n > MAX_KEYS ? MAX_KEYS : n;
  *local_used = false;
  if (n <= 0) {
    return;
  }
  if (now >= atomic_load(&local->redis_retry_at)) {
    struct h_redis *r = NULL;
    res = h_redis_acquire(pool, &r);
    if (res == H_OK) {
      res = count_redis(r, hits, n);
    }
    h_redis_release(pool, r);
    if (res != H_OK) {
      atomic_store(&local->redis_retry_at, now + 1);
    }
  }
  *local_used = res != H_OK;
  for (int i = 0; res != H_OK && i < n; i++) {
    h_rate_local_hit(local, &hits[i], now);
  }
}

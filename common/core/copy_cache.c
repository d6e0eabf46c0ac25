/* copy_cache.c - see copy_cache.h. */
#include "core/copy_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hash.h"

#define STRIPES 64

struct entry {
  char user_id[37];    /* "" when empty */
  int variant;
  char *text;          /* owned */
  long long until_ms;  /* monotonic: served before this */
  uint64_t generation; /* the table's generation when the copy was kept */
  uint64_t drops;      /* drops of this slot so far: tickets compare it */
};

struct h_copy_cache {
  size_t mask;
  int ttl_ms;
  struct entry *slots;
  pthread_mutex_t locks[STRIPES];
  atomic_bool online;
  atomic_uint_fast64_t generation; /* rises at every switch and at drop_all: older copies
                                      and tickets are void */
  atomic_ulong hits, misses, drops;
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct h_copy_cache *h_copy_cache_new(size_t slots, int ttl_ms) {
  size_t n = 1;
  while (n < slots) {
    n <<= 1;
  }
  struct h_copy_cache *c = h_calloc(1, sizeof(*c));
  c->mask = n - 1;
  c->ttl_ms = ttl_ms;
  c->slots = h_calloc(n, sizeof(struct entry));
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_init(&c->locks[i], NULL);
  }
  atomic_init(&c->online, false);
  atomic_init(&c->generation, 1);
  return c;
}

void h_copy_cache_free(struct h_copy_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i <= c->mask; i++) {
    free(c->slots[i].text);
  }
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_destroy(&c->locks[i]);
  }
  free(c->slots);
  free(c);
}

char *h_copy_cache_get(struct h_copy_cache *c, const char *user_id, int variant,
                       struct h_copy_ticket *t) {
  memset(t, 0, sizeof(*t));
  if (c == NULL) {
    return NULL;
  }
  char key[37];
  h_uuid_lower(user_id, key);
  size_t i = (size_t)h_fnv1a(key) & c->mask;
  char *copy = NULL;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  const struct entry *e = &c->slots[i];
  uint64_t generation = atomic_load(&c->generation);
  if (atomic_load(&c->online) && e->text != NULL && e->generation == generation &&
      e->variant == variant && strcmp(e->user_id, key) == 0 && now_ms() < e->until_ms) {
    copy = h_strdup(e->text);
  }
  *t = (struct h_copy_ticket){.slot = i, .slot_drops = e->drops, .generation = generation};
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
  atomic_fetch_add_explicit(copy != NULL ? &c->hits : &c->misses, 1, memory_order_relaxed);
  return copy;
}

void h_copy_cache_put(struct h_copy_cache *c, const char *user_id, int variant,
                      const char *text, long long life_ms, const struct h_copy_ticket *t) {
  if (c == NULL || t->generation == 0 || life_ms == 0) {
    return;
  }
  if (life_ms < 0 || life_ms > c->ttl_ms) {
    life_ms = c->ttl_ms;
  }
  char key[37];
  h_uuid_lower(user_id, key);
  size_t i = t->slot;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  struct entry *e = &c->slots[i];
  if (atomic_load(&c->online) && atomic_load(&c->generation) == t->generation &&
      e->drops == t->slot_drops) {
    free(e->text);
    e->text = h_strdup(text);
    memcpy(e->user_id, key, sizeof(key));
    e->variant = variant;
    e->until_ms = now_ms() + life_ms;
    e->generation = t->generation;
  }
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
}

void h_copy_cache_drop(struct h_copy_cache *c, const char *user_id) {
  if (c == NULL) {
    return;
  }
  char key[37];
  h_uuid_lower(user_id, key);
  size_t i = (size_t)h_fnv1a(key) & c->mask;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  struct entry *e = &c->slots[i];
  e->drops++;
  atomic_fetch_add_explicit(&c->drops, 1, memory_order_relaxed);
  if (strcmp(e->user_id, key) == 0) {
    free(e->text);
    e->text = NULL;
    e->user_id[0] = '\0';
  }
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
}

void h_copy_cache_drop_all(struct h_copy_cache *c) {
  if (c == NULL) {
    return;
  }
  /* Every copy and ticket is void once the generation moves; copies are freed as their
   * slots are reused. */
  atomic_fetch_add(&c->generation, 1);
  atomic_fetch_add_explicit(&c->drops, 1, memory_order_relaxed);
}

void h_copy_cache_set_online(struct h_copy_cache *c, bool online) {
  if (c == NULL) {
    return;
  }
  atomic_store(&c->online, false);
  atomic_fetch_add(&c->generation, 1);
  atomic_store(&c->online, online);
}

void h_copy_cache_stats(struct h_copy_cache *c, struct h_copy_cache_stats *out) {
  memset(out, 0, sizeof(*out));
  if (c == NULL) {
    return;
  }
  out->online = atomic_load(&c->online);
  out->hits = atomic_load(&c->hits);
  out->misses = atomic_load(&c->misses);
  out->drops = atomic_load(&c->drops);
}

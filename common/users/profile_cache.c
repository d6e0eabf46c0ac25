/* profile_cache.c - see profile_cache.h. */
#include "users/profile_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "store/pg_listen.h"
#include "users/token_epoch.h"

#define STRIPES 64

struct entry {
  char user_id[37];    /* "" when empty */
  char *body;          /* owned */
  long long read_ms;
  uint64_t generation; /* the cache's generation when the copy was kept */
  uint64_t drops;      /* drops of this slot so far: tickets compare it */
};

struct h_profile_cache {
  size_t mask;
  int ttl_ms;
  struct entry *slots;
  pthread_mutex_t locks[STRIPES];
  atomic_bool online;
  atomic_uint_fast64_t generation; /* rises at every switch on or off: older copies and
                                      tickets are void */
  atomic_ulong hits, misses, drops;
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct h_profile_cache *h_profile_cache_new(size_t slots, int ttl_ms) {
  size_t n = 1;
  while (n < slots) {
    n <<= 1;
  }
  struct h_profile_cache *c = h_calloc(1, sizeof(*c));
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

void h_profile_cache_free(struct h_profile_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i <= c->mask; i++) {
    free(c->slots[i].body);
  }
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_destroy(&c->locks[i]);
  }
  free(c->slots);
  free(c);
}

char *h_profile_cache_get(struct h_profile_cache *c, const char *user_id,
                          struct h_profile_ticket *t) {
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
  if (atomic_load(&c->online) && e->body != NULL && e->generation == generation &&
      strcmp(e->user_id, key) == 0 && now_ms() - e->read_ms < c->ttl_ms) {
    copy = h_strdup(e->body);
  }
  *t = (struct h_profile_ticket){.slot = i, .slot_drops = e->drops, .generation = generation};
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
  atomic_fetch_add_explicit(copy != NULL ? &c->hits : &c->misses, 1, memory_order_relaxed);
  return copy;
}

void h_profile_cache_put(struct h_profile_cache *c, const char *user_id, const char *body,
                         const struct h_profile_ticket *t) {
  if (c == NULL || t->generation == 0) {
    return;
  }
  char key[37];
  h_uuid_lower(user_id, key);
  size_t i = t->slot;
  pthread_mutex_lock(&c->locks[i % STRIPES]);
  struct entry *e = &c->slots[i];
  if (atomic_load(&c->online) && atomic_load(&c->generation) == t->generation &&
      e->drops == t->slot_drops) {
    free(e->body);
    e->body = h_strdup(body);
    memcpy(e->user_id, key, sizeof(key));
    e->read_ms = now_ms();
    e->generation = t->generation;
  }
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
}

void h_profile_cache_drop(struct h_profile_cache *c, const char *user_id) {
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
    free(e->body);
    e->body = NULL;
    e->user_id[0] = '\0';
  }
  pthread_mutex_unlock(&c->locks[i % STRIPES]);
}

void h_profile_cache_set_online(struct h_profile_cache *c, bool online) {
  if (c == NULL) {
    return;
  }
  /* Every copy is void once the generation moves; they are freed as their slots are reused. */
  atomic_store(&c->online, false);
  atomic_fetch_add(&c->generation, 1);
  atomic_store(&c->online, online);
}

void h_profile_cache_stats(struct h_profile_cache *c, struct h_profile_cache_stats *out) {
  memset(out, 0, sizeof(*out));
  if (c == NULL) {
    return;
  }
  out->online = atomic_load(&c->online);
  out->hits = atomic_load(&c->hits);
  out->misses = atomic_load(&c->misses);
  out->drops = atomic_load(&c->drops);
}

static void on_notice(void *cls, const char *payload) {
  struct h_app *app = cls;
  h_profile_cache_drop(app->profiles, payload);
  h_token_epoch_drop(app->token_epochs, payload);
}

static void on_state(void *cls, bool online) {
  struct h_app *app = cls;
  h_profile_cache_set_online(app->profiles, online);
}

struct h_pg_listen *h_profile_cache_listen(struct h_app *app) {
  if (app->profiles == NULL) {
    return NULL;
  }
  const struct h_config *cfg = app->cfg;
  bool own_url = cfg->database_listen_url[0] != '\0';
  if (!own_url && !cfg->db_prepared_statements) {
    h_log_warning("profiles are read on every request: with HERALD_DB_PREPARED_STATEMENTS=false"
                  " (a transaction pooler) the LISTEN needs HERALD_DATABASE_LISTEN_URL");
    return NULL;
  }
  struct h_pg_listen_options o = {
    .db = {.url = own_url ? cfg->database_listen_url : cfg->database_url, .pool_size = 1,
           .connect_timeout_s = cfg->db_connect_timeout_s,
           .statement_timeout_ms = cfg->db_statement_timeout_ms,
           .application_name = "herald-api-listen"},
    .channel = H_USERS_CHANNEL,
    .on_notice = on_notice,
    .on_state = on_state,
    .cls = app,
  };
  return h_pg_listen_start(&o);
}

void h_profile_cache_unlisten(struct h_pg_listen *l) {
  h_pg_listen_stop(l);
}

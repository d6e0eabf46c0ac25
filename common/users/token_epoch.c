/* token_epoch.c - see token_epoch.h. */
#include "users/token_epoch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "store/db.h"
#include "users/profile_cache.h"
#include "users/user_repo.h"
#include "inbox/stream_bus.h"

#define STRIPES 64

struct entry {
  char user_id[37]; /* "" when empty */
  long epoch;       /* -1: the account is not active */
  long long read_ms;
};

struct h_token_epochs {
  size_t mask;
  int ttl_ms;
  struct entry *slots;
  pthread_mutex_t locks[STRIPES];
};

struct h_token_epochs *h_token_epochs_new(size_t slots, int ttl_ms) {
  size_t n = 1;
  while (n < slots) {
    n <<= 1;
  }
  struct h_token_epochs *t = h_calloc(1, sizeof(*t));
  t->mask = n - 1;
  t->ttl_ms = ttl_ms;
  t->slots = h_calloc(n, sizeof(struct entry));
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_init(&t->locks[i], NULL);
  }
  return t;
}

void h_token_epochs_free(struct h_token_epochs *t) {
  if (t == NULL) {
    return;
  }
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_destroy(&t->locks[i]);
  }
  free(t->slots);
  free(t);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t slot_of(const struct h_token_epochs *t, const char *user_id) {
  return (size_t)h_fnv1a(user_id) & t->mask;
}

/* The held epoch of user_id into *epoch; *fresh tells whether it is within the ttl. */
static bool held(struct h_token_epochs *t, const char *user_id, long *epoch, bool *fresh) {
  size_t i = slot_of(t, user_id);
  pthread_mutex_lock(&t->locks[i % STRIPES]);
  const struct entry *e = &t->slots[i];
  bool hit = strcmp(e->user_id, user_id) == 0;
  if (hit) {
    *epoch = e->epoch;
    *fresh = now_ms() - e->read_ms < t->ttl_ms;
  }
  pthread_mutex_unlock(&t->locks[i % STRIPES]);
  return hit;
}

static void hold(struct h_token_epochs *t, const char *user_id, long epoch) {
  size_t i = slot_of(t, user_id);
  pthread_mutex_lock(&t->locks[i % STRIPES]);
  struct entry *e = &t->slots[i];
  snprintf(e->user_id, sizeof(e->user_id), "%s", user_id);
  e->epoch = epoch;
  e->read_ms = now_ms();
  pthread_mutex_unlock(&t->locks[i % STRIPES]);
}

void h_token_epoch_drop(struct h_token_epochs *t, const char *id) {
  if (t == NULL) {
    return;
  }
  char user_id[37];
  h_uuid_lower(id, user_id);
  size_t i = slot_of(t, user_id);
  pthread_mutex_lock(&t->locks[i % STRIPES]);
  if (strcmp(t->slots[i].user_id, user_id) == 0) {
    t->slots[i].user_id[0] = '\0';
  }
  pthread_mutex_unlock(&t->locks[i % STRIPES]);
}

void h_token_epoch_forget(struct h_app *app, const char *id) {
  h_stream_publish_one(app, H_STREAM_KIND_ACCOUNT, id); /* open streams check at once */
  h_token_epoch_drop(app->token_epochs, id);
  h_copy_cache_drop(app->profiles, id);
}

/* The current epoch of user_id from PostgreSQL; -1 when the account is not active. */
static h_result read_epoch(struct h_app *app, const char *user_id, long *epoch) {
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r != H_OK) {
    return r;
  }
  r = h_user_repo_token_epoch(conn, user_id, epoch);
  h_db_release(app->db, conn);
  return r;
}

h_result h_token_epoch_check(struct h_app *app, const char *user_id, long epoch) {
  long current = 0;
  bool fresh = false;
  struct h_token_epochs *t = app->token_epochs;
  bool have = t != NULL && held(t, user_id, &current, &fresh);
  if (!have || !fresh) {
    long read = 0;
    h_result r = read_epoch(app, user_id, &read);
    if (r != H_OK && !have) {
      return r;
    }
    if (r == H_OK) {
      current = read;
      if (t != NULL) {
        hold(t, user_id, current);
      }
    }
  }
  return current >= 0 && epoch == current ? H_OK : H_ERR_UNAUTHORIZED;
}


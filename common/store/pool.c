/* pool.c - fixed-size connection pool with a wait queue. */
#include "store/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/alloc.h"

struct slot {
  void *conn;  /* NULL until opened */
  bool in_use;
};

struct h_pool {
  const struct h_pool_vtable *vt;
  void *ctx;
  int size;
  int acquire_timeout_ms;
  struct slot *slots;
  int in_use;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  unsigned long long acquired, timeouts, failures;
};

struct h_pool *h_pool_create(const struct h_pool_vtable *vt, void *ctx, int size,
                             int acquire_timeout_ms) {
  struct h_pool *pool = h_calloc(1, sizeof(*pool));
  pool->vt = vt;
  pool->ctx = ctx;
  pool->size = size > 0 ? size : 1;
  pool->acquire_timeout_ms = acquire_timeout_ms;
  pool->slots = h_calloc((size_t)pool->size, sizeof(struct slot));
  pthread_mutex_init(&pool->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pool->freed, &attr);
  pthread_condattr_destroy(&attr);
  return pool;
}

void h_pool_destroy(struct h_pool *pool) {
  if (pool == NULL) {
    return;
  }
  for (int i = 0; i < pool->size; i++) {
    if (pool->slots[i].conn != NULL) {
      pool->vt->close(pool->ctx, pool->slots[i].conn);
    }
  }
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->freed);
  free(pool->slots);
  free(pool);
}

/* Takes a free slot, preferring one with an open connection; -1 if none. Lock held. */
static int take_slot(struct h_pool *pool) {
  int empty = -1;
  for (int i = 0; i < pool->size; i++) {
    if (!pool->slots[i].in_use) {
      if (pool->slots[i].conn != NULL) {
        pool->slots[i].in_use = true;
        return i;
      }
      if (empty < 0) {
        empty = i;
      }
    }
  }
  if (empty >= 0) {
    pool->slots[empty].in_use = true;
  }
  return empty;
}

h_result h_pool_acquire(struct h_pool *pool, void **conn) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += pool->acquire_timeout_ms / 1000;
  deadline.tv_nsec += (long)(pool->acquire_timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }

  pthread_mutex_lock(&pool->lock);
  int i;
  while ((i = take_slot(pool)) < 0) {
    if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT) {
      pool->timeouts++;
      pthread_mutex_unlock(&pool->lock);
      return H_ERR_TIMEOUT;
    }
  }
  pool->in_use++;
  void *c = pool->slots[i].conn;
  pthread_mutex_unlock(&pool->lock);

  /* Health checks and (re)opening happen outside the lock: they may block. */
  if (c != NULL && !pool->vt->healthy(pool->ctx, c)) {
    pool->vt->close(pool->ctx, c);
    c = NULL;
  }
  h_result r = H_OK;
  if (c == NULL) {
    r = pool->vt->open(pool->ctx, &c);
  }

  pthread_mutex_lock(&pool->lock);
  if (r != H_OK) {
    pool->slots[i].conn = NULL;
    pool->slots[i].in_use = false;
    pool->in_use--;
    pool->failures++;
    pthread_cond_signal(&pool->freed);
  } else {
    pool->slots[i].conn = c;
    pool->acquired++;
    *conn = c;
  }
  pthread_mutex_unlock(&pool->lock);
  return r;
}

void h_pool_release(struct h_pool *pool, void *conn, bool broken) {
  if (conn == NULL) {
    return;
  }
  pthread_mutex_lock(&pool->lock);
  for (int i = 0; i < pool->size; i++) {
    if (pool->slots[i].conn == conn && pool->slots[i].in_use) {
      if (broken) {
        pool->vt->close(pool->ctx, conn);
        pool->slots[i].conn = NULL;
      }
      pool->slots[i].in_use = false;
      pool->in_use--;
      break;
    }
  }
  pthread_cond_signal(&pool->freed);
  pthread_mutex_unlock(&pool->lock);
}

void h_pool_get_stats(struct h_pool *pool, struct h_pool_stats *out) {
  pthread_mutex_lock(&pool->lock);
  out->size = pool->size;
  out->in_use = pool->in_use;
  out->open = 0;
  for (int i = 0; i < pool->size; i++) {
    out->open += pool->slots[i].conn != NULL;
  }
  out->acquired = pool->acquired;
  out->timeouts = pool->timeouts;
  out->failures = pool->failures;
  pthread_mutex_unlock(&pool->lock);
}

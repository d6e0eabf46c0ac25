/* pool.h - a fixed-size pool of connections with a blocking, timed acquire.
 *
 * The pool does not know what a connection is: a vtable opens, checks and closes
 * them. Slots are opened lazily, so a pool can be created while its server is
 * down; a connection found broken on acquire (or returned as broken) is closed
 * and reopened. PostgreSQL and Redis pools are built on it. */
#ifndef HERALD_POOL_H
#define HERALD_POOL_H

#include <stdbool.h>

#include "core/result.h"

struct h_pool_vtable {
  /* Opens a connection into *conn; returns H_OK or H_ERR_UNAVAILABLE. */
  h_result (*open)(void *ctx, void **conn);
  /* True when conn is still usable. */
  bool (*healthy)(void *ctx, void *conn);
  /* Closes conn. */
  void (*close)(void *ctx, void *conn);
};

struct h_pool;

struct h_pool_stats {
  int size;     /* slots */
  int in_use;   /* handed out now */
  int open;     /* connections currently open */
  unsigned long long acquired;  /* successful acquires since start */
  unsigned long long timeouts;  /* acquires that gave up waiting */
  unsigned long long failures;  /* opens that failed */
};

/* Creates a pool of size slots; ctx is passed to the vtable (borrowed, must outlive
 * the pool). The caller destroys the pool with h_pool_destroy. */
struct h_pool *h_pool_create(const struct h_pool_vtable *vt, void *ctx, int size,
                             int acquire_timeout_ms);

/* Closes every connection; all must have been released. */
void h_pool_destroy(struct h_pool *pool);

/* Hands out a healthy connection (borrowed until h_pool_release). Returns
 * H_ERR_TIMEOUT when none frees up in time, H_ERR_UNAVAILABLE when opening fails. */
h_result h_pool_acquire(struct h_pool *pool, void **conn);

/* Gives conn back; broken=true closes it so the slot reopens on next acquire. */
void h_pool_release(struct h_pool *pool, void *conn, bool broken);

void h_pool_get_stats(struct h_pool *pool, struct h_pool_stats *out);

#endif

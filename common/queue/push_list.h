/* push_list.h - delivery ids collected inside a transaction and pushed to Redis only
 * after it committed (DESIGN.md "Queues"): ready ids with one LPUSH per queue, scheduled
 * ones into the delayed set. Redis being down is logged, never an error: the rows are
 * safe in PostgreSQL and the sweeper pushes them. */
#ifndef HERALD_PUSH_LIST_H
#define HERALD_PUSH_LIST_H

#include <stddef.h>

#include "queue/queue.h"
#include "store/redis.h"

struct h_push_item {
  enum h_queue queue;
  char id[37];
  double due; /* unix seconds for the delayed set; 0: ready now */
};

struct h_push_list {
  struct h_push_item *items; /* owned */
  size_t n, cap;
};

/* Appends an id (copied). */
void h_push_list_add(struct h_push_list *l, enum h_queue q, const char *id, double due);

/* Empties the list and frees what it holds. */
void h_push_list_clear(struct h_push_list *l);

/* Pushes every item through r (borrowed). Returns how many could not be pushed. */
size_t h_push_list_send(struct h_redis *r, const struct h_push_list *l, const char *request_id);

#endif

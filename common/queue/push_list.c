/* push_list.c - the after-commit push of delivery ids. */
#include "queue/push_list.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/text.h"

void h_push_list_add(struct h_push_list *l, enum h_queue q, const char *id, double due) {
  if (l->n == l->cap) {
    l->cap = l->cap > 0 ? l->cap * 2 : 8;
    l->items = h_realloc(l->items, l->cap * sizeof(*l->items));
  }
  struct h_push_item *it = &l->items[l->n++];
  it->queue = q;
  h_copy(it->id, sizeof(it->id), id);
  it->due = due;
}

void h_push_list_clear(struct h_push_list *l) {
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

/* LPUSHes the ready ids of queue q in one command; returns how many failed. */
static size_t push_ready(struct h_redis *r, const struct h_push_list *l, enum h_queue q,
                         bool *down) {
  const char **ids = h_malloc((l->n + 1) * sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->items[i].queue == q && l->items[i].due <= 0) {
      ids[n++] = l->items[i].id;
    }
  }
  h_result res = n > 0 && !*down ? h_queue_push(r, q, ids, n) : H_OK;
  free(ids);
  *down = *down || res == H_ERR_UNAVAILABLE;
  return res == H_OK && !*down ? 0 : n;
}

size_t h_push_list_send(struct h_redis *r, const struct h_push_list *l, const char *request_id) {
  size_t failed = 0;
  bool down = false; /* after one failure the rest is left to the sweeper */
  for (int q = 0; q < H_QUEUE_COUNT; q++) {
    failed += push_ready(r, l, (enum h_queue)q, &down);
  }
  for (size_t i = 0; i < l->n; i++) {
    if (l->items[i].due <= 0) {
      continue;
    }
    h_result res = down ? H_ERR_UNAVAILABLE
                        : h_queue_schedule(r, l->items[i].queue, l->items[i].id, l->items[i].due);
    down = down || res == H_ERR_UNAVAILABLE;
    failed += res != H_OK;
  }
  if (failed > 0) {
    h_log(H_LOG_WARNING, NULL, request_id,
          "%zu delivery id(s) not pushed: Redis unavailable; the sweeper will push them",
          failed);
  }
  return failed;
}

/* queue.c - queue key names and producers. */
#include "queue/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char *names[H_QUEUE_COUNT] = {"email", "sms", "push", "webhook", "reconcile"};

const char *h_queue_name(enum h_queue q) {
  return (int)q >= 0 && q < H_QUEUE_COUNT ? names[q] : "unknown";
}

int h_queue_parse(const char *name) {
  for (int i = 0; name != NULL && i < H_QUEUE_COUNT; i++) {
    if (strcmp(name, names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

void h_queue_ready_key(enum h_queue q, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:q:{%s}", h_queue_name(q));
}

void h_queue_processing_key(enum h_queue q, const char *worker_id, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:q:{%s}:proc:%s", h_queue_name(q), worker_id);
}

void h_queue_delayed_key(enum h_queue q, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:delayed:{%s}", h_queue_name(q));
}

void h_queue_dlq_key(enum h_queue q, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:dlq:{%s}", h_queue_name(q));
}

void h_queue_heartbeat_key(enum h_queue q, const char *worker_id, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:hb:{%s}:%s", h_queue_name(q), worker_id);
}

h_result h_queue_push(struct h_redis *r, enum h_queue q, const char *const *ids, size_t n) {
  if (n == 0) {
    return H_OK;
  }
  char key[64];
  h_queue_ready_key(q, key, sizeof(key));
  const char **argv = h_malloc((n + 2) * sizeof(char *));
  argv[0] = "LPUSH";
  argv[1] = key;
  for (size_t i = 0; i < n; i++) {
    argv[i + 2] = ids[i];
  }
  h_result res = h_redis_argv(r, NULL, (int)(n + 2), argv);
  free(argv);
  return res;
}

h_result h_queue_schedule(struct h_redis *r, enum h_queue q, const char *id, double due) {
  char key[64], score[32];
  h_queue_delayed_key(q, key, sizeof(key));
  snprintf(score, sizeof(score), "%.3f", due);
  const char *argv[] = {"ZADD", key, score, id};
  return h_redis_argv(r, NULL, 4, argv);
}

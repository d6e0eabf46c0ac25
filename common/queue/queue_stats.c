/* queue_stats.c - queue lengths; processing lists are found with SCAN, never KEYS. */
#include "queue/queue_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An integer reply of one command on key (LLEN, ZCARD) into *out. */
static h_result count(struct h_redis *r, const char *cmd, const char *key, long long *out) {
  const char *argv[] = {cmd, key};
  redisReply *reply = NULL;
  h_result res = h_redis_argv(r, &reply, 2, argv);
  if (res == H_OK) {
    *out = reply != NULL && reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
  }
  freeReplyObject(reply);
  return res;
}

/* Adds LLEN of every key of one SCAN reply page to out. */
static h_result add_lengths(struct h_redis *r, const redisReply *keys, struct h_queue_counts *out) {
  for (size_t i = 0; i < keys->elements; i++) {
    long long n = 0;
    h_result res = count(r, "LLEN", keys->element[i]->str, &n);
    if (res != H_OK) {
      return res;
    }
    out->processing += n;
    out->workers++;
  }
  return H_OK;
}

static h_result processing(struct h_redis *r, enum h_queue q, struct h_queue_counts *out) {
  char pattern[96], cursor[32] = "0";
  h_queue_processing_key(q, "*", pattern, sizeof(pattern));
  do {
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500", "TYPE", "list"};
    redisReply *reply = NULL;
    h_result res = h_redis_argv(r, &reply, 8, argv);
    if (res != H_OK || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      freeReplyObject(reply);
      return res != H_OK ? res : H_ERR_INTERNAL;
    }
    snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
    res = add_lengths(r, reply->element[1], out);
    freeReplyObject(reply);
    if (res != H_OK) {
      return res;
    }
  } while (strcmp(cursor, "0") != 0);
  return H_OK;
}

h_result h_queue_counts(struct h_redis *r, enum h_queue q, struct h_queue_counts *out) {
  char key[96];
  memset(out, 0, sizeof(*out));
  h_queue_ready_key(q, key, sizeof(key));
  h_result res = count(r, "LLEN", key, &out->ready);
  if (res == H_OK) {
    h_queue_delayed_key(q, key, sizeof(key));
    res = count(r, "ZCARD", key, &out->delayed);
  }
  if (res == H_OK) {
    h_queue_dlq_key(q, key, sizeof(key));
    res = count(r, "LLEN", key, &out->dead);
  }
  return res == H_OK ? processing(r, q, out) : res;
}

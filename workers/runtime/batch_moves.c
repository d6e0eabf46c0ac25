/* batch_moves.c - the Redis side of a batch: take several ids at once, settle
 * several ids at once. Both are Lua scripts over keys of one hash tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "batch.h"

/* KEYS[1] ready list, KEYS[2] processing list; ARGV[1] how many. */
static const char take_lua[] =
    "local ids = {}\n"
    "for i = 1, tonumber(ARGV[1]) do\n"
    "  local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')\n"
    "  if not id then break end\n"
    "  ids[#ids + 1] = id\n"
    "end\n"
    "return ids\n";

/* KEYS[1] processing list, KEYS[2] ready list, KEYS[3] delayed set, KEYS[4] dead-letter
 * list; ARGV: (kind, id, due) triples. The same moves as scripts.c, for many ids. */
static const char moves_lua[] =
    "for i = 1, #ARGV, 3 do\n"
    "  local kind, id = ARGV[i], ARGV[i + 1]\n"
    "  redis.call('LREM', KEYS[1], 1, id)\n"
    "  if kind == 'd' then redis.call('ZADD', KEYS[3], ARGV[i + 2], id)\n"
    "  elseif kind == 'x' then redis.call('LPUSH', KEYS[4], id)\n"
    "  elseif kind == 'r' then redis.call('RPUSH', KEYS[2], id) end\n"
    "end\n"
    "return #ARGV / 3\n";

/* Copies the string elements of an array reply into ids (at most want); -1 when reply
 * is not an array. An id too long to be one is skipped: the reaper drops it later. */
static int reply_ids(const redisReply *reply, int want, char (*ids)[128]) {
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    return -1;
  }
  int got = 0;
  for (size_t i = 0; i < reply->elements && got < want; i++) {
    const redisReply *e = reply->element[i];
    if (e->type == REDIS_REPLY_STRING && e->len < 128) {
      memcpy(ids[got], e->str, e->len);
      ids[got][e->len] = '\0';
      got++;
    }
  }
  return got;
}

int h_rt_take_own(struct h_wthread *t, int want, char (*ids)[128]) {
  char last[16];
  snprintf(last, sizeof(last), "%d", want - 1);
  const char *argv[] = {"LRANGE", t->proc_key, "0", last};
  redisReply *reply = NULL;
  h_result r = h_rt_redis(t, &reply, 4, argv, t->rt->cfg->redis_timeout_ms);
  int got = r == H_OK ? reply_ids(reply, want, ids) : -1;
  freeReplyObject(reply);
  if (got == 0) {
    t->list_unknown = false; /* nothing left behind */
  } else if (got > 0) {
    h_log_warning("%s: %d id(s) in our processing list from a move whose reply was lost:"
                  " taken up", t->worker_id, got);
  }
  return got;
}

int h_rt_take(struct h_wthread *t, int want, char (*ids)[128]) {
  char n[16];
  snprintf(n, sizeof(n), "%d", want);
  const char *argv[] = {"EVAL", take_lua, "2", t->rt->ready_key, t->proc_key, n};
  redisReply *reply = NULL;
  h_result r = h_rt_redis(t, &reply, 6, argv, t->rt->cfg->redis_timeout_ms);
  int got = r == H_OK ? reply_ids(reply, want, ids) : -1;
  freeReplyObject(reply);
  if (r != H_OK) {
    t->list_unknown = true; /* the script may have run and its reply been lost */
  }
  return got;
}

char h_rt_move_kind(const char *status) {
  if (strcmp(status, "scheduled") == 0) {
    return 'd';
  }
  if (strcmp(status, "dead") == 0) {
    return 'x';
  }
  if (strcmp(status, "ready") == 0) {
    return 'r';
  }
  return 'a';
}

h_result h_rt_apply_moves(struct h_wthread *t, const struct h_move *moves, size_t n) {
  if (n == 0) {
    return H_OK;
  }
  const char **argv = h_malloc((7 + 3 * n) * sizeof(char *));
  char(*scores)[32] = h_malloc(n * sizeof(*scores));
  char(*kinds)[2] = h_malloc(n * sizeof(*kinds));
  int argc = 0;
  argv[argc++] = "EVAL";
  argv[argc++] = moves_lua;
  argv[argc++] = "4";
  argv[argc++] = t->proc_key;
  argv[argc++] = t->rt->ready_key;
  argv[argc++] = t->rt->delayed_key;
  argv[argc++] = t->rt->dlq_key;
  for (size_t i = 0; i < n; i++) {
    kinds[i][0] = moves[i].kind;
    kinds[i][1] = '\0';
    snprintf(scores[i], sizeof(scores[i]), "%.3f", moves[i].due);
    argv[argc++] = kinds[i];
    argv[argc++] = moves[i].id;
    argv[argc++] = scores[i];
  }
  h_result r = h_rt_redis(t, NULL, argc, argv, t->rt->cfg->redis_timeout_ms);
  free(argv);
  free(scores);
  free(kinds);
  return r;
}

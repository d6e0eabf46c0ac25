/* scripts.c - the Redis side of moving one id, each move atomic (Lua). All keys
 * of one queue share its hash tag, so every script touches a single slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "rt.h"

/* KEYS[1] from, KEYS[2] to; ARGV[1] id, ARGV[2] "L" or "R". */
static const char move_list_lua[] =
    "redis.call('LREM', KEYS[1], 1, ARGV[1])\n"
    "if ARGV[2] == 'R' then redis.call('RPUSH', KEYS[2], ARGV[1])\n"
    "else redis.call('LPUSH', KEYS[2], ARGV[1]) end\n"
    "return 1\n";

/* KEYS[1] from, KEYS[2] delayed set; ARGV[1] id, ARGV[2] score. */
static const char move_delayed_lua[] =
    "redis.call('LREM', KEYS[1], 1, ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "return 1\n";

/* KEYS[1] lock; ARGV[1] token. */
static const char unlock_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* KEYS heartbeat keys; ARGV[1] ttl ms, ARGV[2] value. */
static const char heartbeat_lua[] =
    "for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[2], 'PX', ARGV[1]) end\n"
    "return #KEYS\n";

/* KEYS[1] processing list, KEYS[2] ready list, KEYS[3] heartbeat. Unstarted ids go to
 * the front of the ready list (RPUSH: the next BLMOVE RIGHT takes them). */
static const char release_lua[] =
    "local n = 0\n"
    "while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end\n"
    "redis.call('DEL', KEYS[3])\n"
    "return n\n";

static int redis_timeout(const struct h_wthread *t) { return t->rt->cfg->redis_timeout_ms; }

h_result h_rt_ack(struct h_wthread *t, const char *id) {
  const char *argv[] = {"LREM", t->proc_key, "1", id};
  return h_rt_redis(t, NULL, 4, argv, redis_timeout(t));
}

h_result h_rt_move_to_list(struct h_wthread *t, const char *from_key, const char *id,
                           const char *list_key, bool front) {
  const char *argv[] = {"EVAL", move_list_lua, "2", from_key, list_key, id, front ? "R" : "L"};
  return h_rt_redis(t, NULL, 7, argv, redis_timeout(t));
}

h_result h_rt_move_to_delayed(struct h_wthread *t, const char *from_key, const char *id,
                              double due) {
  char score[32];
  snprintf(score, sizeof(score), "%.3f", due);
  const char *argv[] = {"EVAL", move_delayed_lua, "2", from_key, t->rt->delayed_key, id, score};
  return h_rt_redis(t, NULL, 7, argv, redis_timeout(t));
}

bool h_rt_lock(struct h_wthread *t, const char *key, const char *token, int ttl_ms) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
  const char *argv[] = {"SET", key, token, "NX", "PX", ttl};
  redisReply *reply = NULL;
  h_result r = h_rt_redis(t, &reply, 6, argv, redis_timeout(t));
  bool taken = r == H_OK && reply != NULL && reply->type == REDIS_REPLY_STATUS;
  freeReplyObject(reply);
  return taken;
}

void h_rt_unlock(struct h_wthread *t, const char *key, const char *token) {
  const char *argv[] = {"EVAL", unlock_lua, "1", key, token};
  (void)h_rt_redis(t, NULL, 5, argv, redis_timeout(t));
}

h_result h_rt_heartbeat(struct h_wthread *t, const char *const *keys, int n, int ttl_ms) {
  const char **argv = h_malloc(((size_t)n + 5) * sizeof(char *));
  char nkeys[16], ttl[16], value[64];
  snprintf(nkeys, sizeof(nkeys), "%d", n);
  snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
  snprintf(value, sizeof(value), "%.0f", h_rt_wall());
  int argc = 0;
  argv[argc++] = "EVAL";
  argv[argc++] = heartbeat_lua;
  argv[argc++] = nkeys;
  for (int i = 0; i < n; i++) {
    argv[argc++] = keys[i];
  }
  argv[argc++] = ttl;
  argv[argc++] = value;
  h_result r = h_rt_redis(t, NULL, argc, argv, redis_timeout(t));
  free(argv);
  return r;
}

h_result h_rt_release(struct h_wthread *t, const char *proc_key, const char *hb_key) {
  const char *argv[] = {"EVAL", release_lua, "3", proc_key, t->rt->ready_key, hb_key};
  redisReply *reply = NULL;
  h_result r = h_rt_redis(t, &reply, 6, argv, redis_timeout(t));
  if (r == H_OK && reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
    for (long long i = 0; i < reply->integer; i++) {
      h_wmetrics_outcome(t->rt->metrics, H_OUT_RETURNED);
    }
  }
  freeReplyObject(reply);
  return r;
}

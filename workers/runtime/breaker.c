/* breaker.c - circuit breakers per provider, shared through Redis (see breaker.h). */
#include "breaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* The trust in a closed state seen by this thread (see h_breaker_allow). */
#define SEEN_CLOSED_MS 200

/* KEYS[1] the breaker; ARGV[1] probe lease ms. Returns {allowed, state}. */
static const char allow_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local st = redis.call('HGET', KEYS[1], 'state') or 'closed'\n"
    "if st == 'closed' then return {1, st} end\n"
    "if st == 'open' then\n"
    "  if now < tonumber(redis.call('HGET', KEYS[1], 'until') or '0') then return {0, st} end\n"
    "  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probe_until', now + tonumber(ARGV[1]))\n"
    "  redis.call('HINCRBY', KEYS[1], 'half_opened', 1)\n"
    "  return {1, 'half_open'}\n"
    "end\n"
    "if now >= tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0') then\n"
    "  redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[1]))\n"
    "  return {1, st}\n"
    "end\n"
    "return {0, st}\n";

/* KEYS[1] the breaker; ARGV: ok (1/0), failures in a row, error rate %, min calls,
 * window ms, cool-down ms, earlier successes not reported yet (they came before this call).
 * Returns {state before, state after}. */
static const char report_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local k = KEYS[1]\n"
    "local ok = ARGV[1] == '1'\n"
    "local st = redis.call('HGET', k, 'state') or 'closed'\n"
    "local function open()\n"
    "  redis.call('HSET', k, 'state', 'open', 'until', now + tonumber(ARGV[6]), 'probe_until', 0)\n"
    "  redis.call('HINCRBY', k, 'opened', 1)\n"
    "  return {st, 'open'}\n"
    "end\n"
    "if st ~= 'closed' then\n"
    "  if st == 'half_open' and ok then\n"
    "    redis.call('HSET', k, 'state', 'closed', 'run', 0, 'calls', 0, 'fails', 0,\n"
    "               'window_start', now, 'probe_until', 0)\n"
    "    redis.call('HINCRBY', k, 'closed', 1)\n"
    "    return {st, 'closed'}\n"
    "  end\n"
    "  if st == 'half_open' then return open() end\n"
    "  return {st, st}\n"
    "end\n"
    "if now - tonumber(redis.call('HGET', k, 'window_start') or '0') >= tonumber(ARGV[5]) then\n"
    "  redis.call('HSET', k, 'window_start', now, 'calls', 0, 'fails', 0)\n"
    "end\n"
    "local calls = redis.call('HINCRBY', k, 'calls', 1 + tonumber(ARGV[7]))\n"
    "if ok or tonumber(ARGV[7]) > 0 then redis.call('HSET', k, 'run', 0) end\n"
    "if ok then return {st, st} end\n"
    "local fails = redis.call('HINCRBY', k, 'fails', 1)\n"
    "local run = redis.call('HINCRBY', k, 'run', 1)\n"
    "if run >= tonumber(ARGV[2]) or\n"
    "   (calls >= tonumber(ARGV[4]) and fails * 100 >= tonumber(ARGV[3]) * calls) then\n"
    "  return open()\n"
    "end\n"
    "return {st, st}\n";

void h_breaker_key(const struct h_rt *rt, const char *provider, char *out, size_t outlen) {
  snprintf(out, outlen, "herald:cb:{%s}:%s", rt->channel, provider);
}

enum h_breaker_state h_breaker_parse(const char *text) {
  if (text != NULL && strcmp(text, "open") == 0) {
    return H_BREAKER_OPEN;
  }
  if (text != NULL && strcmp(text, "half_open") == 0) {
    return H_BREAKER_HALF_OPEN;
  }
  return H_BREAKER_CLOSED;
}

/* The state of element i of an array reply, or closed. */
static enum h_breaker_state reply_state(const redisReply *reply, size_t i) {
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements <= i ||
      reply->element[i]->type != REDIS_REPLY_STRING) {
    return H_BREAKER_CLOSED;
  }
  return h_breaker_parse(reply->element[i]->str);
}

static void seen(struct h_wthread *t, int i, enum h_breaker_state st) {
  t->breaker_seen[i] = (int)st;
  t->breaker_seen_at[i] = h_rt_now_ms();
  h_wmetrics_breaker(t->rt->metrics, i, (int)st);
}

bool h_breaker_allow(struct h_wthread *t, int i) {
  struct h_rt *rt = t->rt;
  if (t->breaker_seen[i] == H_BREAKER_CLOSED &&
      h_rt_now_ms() - t->breaker_seen_at[i] < SEEN_CLOSED_MS) {
    return true;
  }
  char key[H_KEY_LEN], lease[16];
  h_breaker_key(rt, rt->set.providers[i]->name, key, sizeof(key));
  snprintf(lease, sizeof(lease), "%d", rt->cfg->provider_timeout_ms + 1000);
  const char *argv[] = {"EVAL", allow_lua, "1", key, lease};
  redisReply *reply = NULL;
  bool allowed = true;
  if (h_rt_redis(t, &reply, 5, argv, rt->cfg->redis_timeout_ms) == H_OK &&
      reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[0]->type == REDIS_REPLY_INTEGER) {
    allowed = reply->element[0]->integer == 1;
    seen(t, i, reply_state(reply, 1));
  }
  freeReplyObject(reply);
  return allowed;
}

/* Sends a report to Redis: ok (or a flush of the pending successes alone, flush), with
 * the successes this thread kept back. */
static void send_report(struct h_wthread *t, int i, bool ok, bool flush) {
  struct h_rt *rt = t->rt;
  const struct h_config *cfg = rt->cfg;
  char key[H_KEY_LEN], run[16], rate[16], min[16], window[24], cool[16], earlier[16];
  int pending = t->breaker_pending[i] - (flush ? 1 : 0);
  snprintf(earlier, sizeof(earlier), "%d", pending > 0 ? pending : 0);
  t->breaker_pending[i] = 0;
  t->breaker_flushed_at[i] = h_rt_now_ms();
  h_breaker_key(rt, rt->set.providers[i]->name, key, sizeof(key));
  snprintf(run, sizeof(run), "%d", cfg->breaker_failures);
  snprintf(rate, sizeof(rate), "%d", cfg->breaker_error_rate);
  snprintf(min, sizeof(min), "%d", cfg->breaker_min_calls);
  snprintf(window, sizeof(window), "%lld", (long long)cfg->breaker_window_s * 1000);
  snprintf(cool, sizeof(cool), "%d", cfg->breaker_cooldown_ms);
  const char *argv[] = {"EVAL", report_lua, "1", key, ok ? "1" : "0", run, rate, min, window,
                        cool, earlier};
  redisReply *reply = NULL;
  if (h_rt_redis(t, &reply, 11, argv, cfg->redis_timeout_ms) == H_OK) {
    enum h_breaker_state before = reply_state(reply, 0), after = reply_state(reply, 1);
    seen(t, i, after);
    if (before != after) {
      h_wmetrics_breaker_transition(rt->metrics, i, (int)after);
      h_log_emit(after == H_BREAKER_OPEN ? H_LOG_WARNING : H_LOG_INFO, "event", NULL,
                 json_pack("{ssss}", "provider", rt->set.providers[i]->name, "breaker",
                           after == H_BREAKER_OPEN ? "open" : "closed"),
                 "%s: circuit breaker of provider %s %s", t->worker_id,
                 rt->set.providers[i]->name, after == H_BREAKER_OPEN ? "opened" : "closed");
    }
  }
  freeReplyObject(reply);
}

void h_breaker_report(struct h_wthread *t, int i, bool ok) {
  /* a success on a breaker seen closed is counted here and sent with the next report,
   * at most SEEN_CLOSED_MS later: one Redis call per thread and provider that often */
  if (ok && t->breaker_seen[i] == H_BREAKER_CLOSED && t->breaker_flushed_at[i] != 0 &&
      h_rt_now_ms() - t->breaker_flushed_at[i] < SEEN_CLOSED_MS) {
    t->breaker_pending[i]++;
    return;
  }
  send_report(t, i, ok, false);
}

void h_breaker_flush(struct h_wthread *t) {
  for (int i = 0; i < t->rt->set.n && t->rt->set.breakers; i++) {
    if (t->breaker_pending[i] > 0) {
      send_report(t, i, true, true);
    }
  }
}

void h_breaker_sample(struct h_rt *rt, struct h_wthread *m) {
  for (int i = 0; i < rt->set.n && rt->set.breakers; i++) {
    char key[H_KEY_LEN];
    h_breaker_key(rt, rt->set.providers[i]->name, key, sizeof(key));
    const char *argv[] = {"HGET", key, "state"};
    redisReply *reply = NULL;
    if (h_rt_redis(m, &reply, 3, argv, rt->cfg->redis_timeout_ms) == H_OK) {
      h_wmetrics_breaker(rt->metrics, i,
                         (int)h_breaker_parse(reply->type == REDIS_REPLY_STRING ? reply->str
                                                                                : NULL));
    }
    freeReplyObject(reply);
  }
}

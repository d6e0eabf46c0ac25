/* ratelimit.c - INCR with a TTL set on first use, in one atomic round trip. */
#include "http/ratelimit.h"

#include <stdio.h>

#include "core/log.h"
#include "store/redis.h"

static const char *script =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local ttl = redis.call('TTL', KEYS[1]) "
    "if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end "
    "return {n, ttl}";

bool h_rate_limit(struct h_req *rq, const char *bucket, int limit, int window_s) {
  char key[160], window[16];
  snprintf(key, sizeof(key), "herald:rl:%s:%s", bucket, rq->ip[0] ? rq->ip : "unknown");
  snprintf(window, sizeof(window), "%d", window_s);
  struct h_redis *r = NULL;
  redisReply *reply = NULL;
  h_result res = h_redis_acquire(rq->app->redis, &r);
  if (res == H_OK) {
    const char *argv[] = {"EVAL", script, "1", key, window};
    res = h_redis_argv(r, &reply, 5, argv);
  }
  h_redis_release(rq->app->redis, r);
  if (res != H_OK || reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "rate limit %s not enforced: Redis unavailable (failing open)", bucket);
    freeReplyObject(reply);
    return true;
  }
  long long count = reply->element[0]->integer;
  long long ttl = reply->element[1]->integer;
  freeReplyObject(reply);
  if (count <= limit) {
    return true;
  }
  char retry[24];
  snprintf(retry, sizeof(retry), "%lld", ttl > 0 ? ttl : 1);
  h_reply_header(rq, "Retry-After", retry);
  h_log(H_LOG_WARNING, "security", rq->request_id, "rate limit %s exceeded by %s", bucket, rq->ip);
  h_reply_error(rq, H_ERR_RATE_LIMITED, "rate_limited",
                "Too many requests; retry after the time in Retry-After.", NULL);
  return false;
}

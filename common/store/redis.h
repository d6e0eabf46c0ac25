/* redis.h - hiredis with timeouts, reconnects and error replies handled.
 *
 * struct h_redis is one connection owned by one thread (workers keep one per
 * thread); struct h_redis_pool hands such connections to the API's threads. A
 * connection that saw an I/O error or a LOADING/READONLY/MASTERDOWN reply is
 * marked broken and reconnects on next use. */
#ifndef HERALD_REDIS_H
#define HERALD_REDIS_H

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdbool.h>

#include "store/pool.h"
#include "core/result.h"

struct h_redis_target {
  char host[256];
  int port;
  int db;
  char password[256]; /* empty: no AUTH */
  int timeout_ms;
  /* Redis Sentinel (redis_sentinel.h). When master_name is set, host and
   * port are ignored: every connect asks these sentinels for the primary. */
  char sentinels[512];         /* "host:port,host:port" */
  char master_name[128];       /* empty: no Sentinel */
  char sentinel_password[256]; /* AUTH of the sentinels, empty: none */
};

/* Parses redis://[[user]:password@]host[:port][/db]. H_ERR_INVALID when malformed. */
h_result h_redis_parse_url(const char *url, int timeout_ms, struct h_redis_target *out);

struct h_redis {
  struct h_redis_target target;
  redisContext *ctx; /* NULL while disconnected */
  bool broken;
  char peer[280]; /* "host:port" connected to (Sentinel: the primary it was given) */
};

/* Initialises r for target; connects lazily. */
void h_redis_init(struct h_redis *r, const struct h_redis_target *target);
/* Disconnects. */
void h_redis_close(struct h_redis *r);

/* Runs a command (hiredis format). On H_OK *reply holds a reply the caller
 * freeReplyObject()s (an error reply other than the connection-level ones above
 * is returned as H_ERR_INVALID with the reply kept). H_ERR_UNAVAILABLE on I/O
 * failure, OOM, LOADING, READONLY or MASTERDOWN; the connection is then reset. */
h_result h_redis_cmd(struct h_redis *r, redisReply **reply, const char *fmt, ...);
h_result h_redis_vcmd(struct h_redis *r, redisReply **reply, const char *fmt, va_list ap);

/* Like h_redis_cmd with an argument vector (binary-safe, no format parsing).
 * reply may be NULL when the caller only needs the status. */
h_result h_redis_argv(struct h_redis *r, redisReply **reply, int argc, const char **argv);

/* Sends n commands (argument vectors argc[i]/argv[i]) in one write and reads the n replies:
 * one round trip. replies[i] (caller frees each with freeReplyObject) may be an error
 * reply, then the result is H_ERR_INVALID. H_ERR_UNAVAILABLE as h_redis_argv, with every
 * replies[i] NULL. */
h_result h_redis_pipeline(struct h_redis *r, int n, const int *argc, const char **const *argv,
                          redisReply **replies);
/* Pure classification of an error reply's text (exposed for tests). */
h_result h_redis_classify_error(const char *text);

struct h_redis_pool;

/* A pool of connections to target (copied). Caller frees with h_redis_pool_destroy. */
struct h_redis_pool *h_redis_pool_create(const struct h_redis_target *target, int size,
                                         int acquire_timeout_ms);
void h_redis_pool_destroy(struct h_redis_pool *p);
h_result h_redis_acquire(struct h_redis_pool *p, struct h_redis **r);
void h_redis_release(struct h_redis_pool *p, struct h_redis *r);
void h_redis_pool_stats(struct h_redis_pool *p, struct h_pool_stats *out);

/* PING through the pool: H_OK when Redis answers. */
h_result h_redis_ping(struct h_redis_pool *p);

#endif

/* redis.c - hiredis wrapper and pool. */
#include "store/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/redis_sentinel.h"

h_result h_redis_parse_url(const char *url, int timeout_ms, struct h_redis_target *out) {
  memset(out, 0, sizeof(*out));
  out->port = 6379;
  out->timeout_ms = timeout_ms;
  const char *p = url;
  if (url == NULL || strncmp(p, "redis://", 8) != 0) {
    return H_ERR_INVALID;
  }
  p += 8;
  const char *at = strrchr(p, '@');
  if (at != NULL) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *pw = colon != NULL ? colon + 1 : p;
    size_t n = (size_t)(at - pw);
    if (n >= sizeof(out->password)) {
      return H_ERR_INVALID;
    }
    memcpy(out->password, pw, n);
    p = at + 1;
  }
  size_t hostlen = strcspn(p, ":/");
  if (hostlen == 0 || hostlen >= sizeof(out->host)) {
    return H_ERR_INVALID;
  }
  memcpy(out->host, p, hostlen);
  p += hostlen;
  if (*p == ':') {
    char *end = NULL;
    long port = strtol(p + 1, &end, 10);
    if (end == p + 1 || port < 1 || port > 65535 || (*end != '\0' && *end != '/')) {
      return H_ERR_INVALID;
    }
    out->port = (int)port;
    p = end;
  }
  if (*p == '/' && p[1] != '\0') {
    char *end = NULL;
    long db = strtol(p + 1, &end, 10);
    if (end == p + 1 || *end != '\0' || db < 0 || db > 15) {
      return H_ERR_INVALID;
    }
    out->db = (int)db;
  } else if (*p != '\0' && strcmp(p, "/") != 0) {
    return H_ERR_INVALID;
  }
  return H_OK;
}

void h_redis_init(struct h_redis *r, const struct h_redis_target *target) {
  memset(r, 0, sizeof(*r));
  r->target = *target;
}

void h_redis_close(struct h_redis *r) {
  if (r->ctx != NULL) {
    redisFree(r->ctx);
    r->ctx = NULL;
  }
  r->broken = false;
}

h_result h_redis_classify_error(const char *text) {
  static const char *transient[] = {"LOADING", "READONLY", "MASTERDOWN", "OOM", "BUSY",
                                    "TRYAGAIN", "CLUSTERDOWN", NULL};
  for (int i = 0; transient[i] != NULL; i++) {
    size_t n = strlen(transient[i]);
    if (text != NULL && strncmp(text, transient[i], n) == 0 &&
        (text[n] == ' ' || text[n] == '\0')) {
      return H_ERR_UNAVAILABLE;
    }
  }
  return H_ERR_INVALID;
}

static h_result simple(struct h_redis *r, const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *reply = redisvCommand(r->ctx, fmt, ap);
  va_end(ap);
  h_result res = reply != NULL && reply->type != REDIS_REPLY_ERROR ? H_OK : H_ERR_UNAVAILABLE;
  if (res != H_OK) {
    h_log_warning("h_redis connect: %s failed: %s", what,
                  reply != NULL ? reply->str : r->ctx->errstr);
  }
  freeReplyObject(reply);
  return res;
}

static h_result connect_now(struct h_redis *r) {
  struct timeval tv = {r->target.timeout_ms / 1000, (r->target.timeout_ms % 1000) * 1000};
  /* With Sentinel, ask for the primary at every (re)connect */
  char host[sizeof(r->target.host)];
  int port = r->target.port;
  bool sentinel = r->target.master_name[0] != '\0';
  snprintf(host, sizeof(host), "%s", r->target.host);
  if (sentinel && h_sentinel_resolve(&r->target, host, sizeof(host), &port) != H_OK) {
    return H_ERR_UNAVAILABLE;
  }
  snprintf(r->peer, sizeof(r->peer), "%s:%d", host, port);
  r->ctx = redisConnectWithTimeout(host, port, tv);
  if (r->ctx == NULL || r->ctx->err) {
    h_log_warning("h_redis connect: redisConnectWithTimeout %s:%d failed: %s", host, port,
                  r->ctx != NULL ? r->ctx->errstr : "out of memory");
    h_redis_close(r);
    return H_ERR_UNAVAILABLE;
  }
  redisSetTimeout(r->ctx, tv);
  redisEnableKeepAlive(r->ctx);
  h_result res = H_OK;
  if (r->target.password[0] != '\0') {
    res = simple(r, "AUTH", "AUTH %s", r->target.password);
  }
  if (res == H_OK && r->target.db != 0) {
    res = simple(r, "SELECT", "SELECT %d", r->target.db);
  }
  if (res == H_OK && sentinel) { /* The sentinels may lag behind a fail-over */
    res = h_sentinel_check_role(r->ctx);
  }
  if (res != H_OK) {
    h_redis_close(r);
  }
  return res;
}

static h_result finish(struct h_redis *r, redisReply *rep, redisReply **reply);

/* With Sentinel, false when the sentinels now name another primary than the one
 * this connection reached (a fail-over the connection did not notice: the old primary
 * keeps accepting writes until the sentinels demote it). */
static bool still_primary(struct h_redis *r) {
  if (r->ctx == NULL || r->target.master_name[0] == '\0' ||
      h_sentinel_is_current(&r->target, r->peer)) {
    return true;
  }
  h_log_warning("h_redis: the sentinels moved the primary away from %s: reconnecting", r->peer);
  return false;
}

h_result h_redis_vcmd(struct h_redis *r, redisReply **reply, const char *fmt, va_list ap) {
  *reply = NULL;
  if (r->broken || !still_primary(r)) {
    h_redis_close(r);
  }
  if (r->ctx == NULL && connect_now(r) != H_OK) {
    return H_ERR_UNAVAILABLE;
  }
  return finish(r, redisvCommand(r->ctx, fmt, ap), reply);
}

/* Shared tail of the command functions: classifies rep and hands it out. */
static h_result finish(struct h_redis *r, redisReply *rep, redisReply **reply) {
  if (rep == NULL) {
    h_log_warning("h_redis: command failed: %s", r->ctx->errstr);
    r->broken = true;
    return H_ERR_UNAVAILABLE;
  }
  h_result res = H_OK;
  if (rep->type == REDIS_REPLY_ERROR) {
    res = h_redis_classify_error(rep->str);
    if (res == H_ERR_UNAVAILABLE) {
      h_log_warning("h_redis: error reply: %s", rep->str);
      r->broken = true;
    }
  }
  if (reply != NULL && res != H_ERR_UNAVAILABLE) {
    *reply = rep;
  } else {
    freeReplyObject(rep);
  }
  return res;
}

h_result h_redis_argv(struct h_redis *r, redisReply **reply, int argc, const char **argv) {
  if (reply != NULL) {
    *reply = NULL;
  }
  if (r->broken || !still_primary(r)) {
    h_redis_close(r);
  }
  if (r->ctx == NULL && connect_now(r) != H_OK) {
    return H_ERR_UNAVAILABLE;
  }
  return finish(r, redisCommandArgv(r->ctx, argc, argv, NULL), reply);
}

h_result h_redis_pipeline(struct h_redis *r, int n, const int *argc, const char **const *argv,
                          redisReply **replies) {
  for (int i = 0; i < n; i++) {
    replies[i] = NULL;
  }
  if (r->broken || !still_primary(r)) {
    h_redis_close(r);
  }
  if (r->ctx == NULL && connect_now(r) != H_OK) {
    return H_ERR_UNAVAILABLE;
  }
  for (int i = 0; i < n; i++) {
    if (redisAppendCommandArgv(r->ctx, argc[i], argv[i], NULL) != REDIS_OK) {
      r->broken = true;
      return H_ERR_UNAVAILABLE;
    }
  }
  h_result res = H_OK;
  for (int i = 0; i < n; i++) { /* every reply is read, so the connection stays in step */
    void *rep = NULL;
    if (redisGetReply(r->ctx, &rep) != REDIS_OK) {
      rep = NULL;
    }
    h_result one = finish(r, rep, &replies[i]);
    if (one == H_ERR_UNAVAILABLE) {
      for (int j = 0; j < n; j++) {
        freeReplyObject(replies[j]);
        replies[j] = NULL;
      }
      return H_ERR_UNAVAILABLE;
    }
    res = res == H_OK ? one : res;
  }
  return res;
}

h_result h_redis_cmd(struct h_redis *r, redisReply **reply, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  h_result res = h_redis_vcmd(r, reply, fmt, ap);
  va_end(ap);
  return res;
}

/* ---- pool ---- */

struct h_redis_pool {
  struct h_redis_target target;
  struct h_pool *pool;
};

static h_result rp_open(void *ctx, void **conn) {
  struct h_redis_pool *p = ctx;
  struct h_redis *r = h_malloc(sizeof(*r));
  h_redis_init(r, &p->target);
  if (connect_now(r) != H_OK) {
    free(r);
    *conn = NULL;
    return H_ERR_UNAVAILABLE;
  }
  *conn = r;
  return H_OK;
}

static bool rp_healthy(void *ctx, void *conn) {
  (void)ctx;
  struct h_redis *r = conn;
  return !r->broken && r->ctx != NULL && r->ctx->err == 0;
}

static void rp_close(void *ctx, void *conn) {
  (void)ctx;
  h_redis_close(conn);
  free(conn);
}

static const struct h_pool_vtable redis_vtable = {rp_open, rp_healthy, rp_close};

struct h_redis_pool *h_redis_pool_create(const struct h_redis_target *target, int size,
                                         int acquire_timeout_ms) {
  struct h_redis_pool *p = h_calloc(1, sizeof(*p));
  p->target = *target;
  p->pool = h_pool_create(&redis_vtable, p, size, acquire_timeout_ms);
  return p;
}

void h_redis_pool_destroy(struct h_redis_pool *p) {
  if (p == NULL) {
    return;
  }
  h_pool_destroy(p->pool);
  free(p);
}

h_result h_redis_acquire(struct h_redis_pool *p, struct h_redis **r) {
  void *c = NULL;
  h_result res = h_pool_acquire(p->pool, &c);
  *r = res == H_OK ? c : NULL;
  return res;
}

void h_redis_release(struct h_redis_pool *p, struct h_redis *r) {
  if (r != NULL) {
    h_pool_release(p->pool, r, r->broken || r->ctx == NULL);
  }
}

void h_redis_pool_stats(struct h_redis_pool *p, struct h_pool_stats *out) {
  h_pool_get_stats(p->pool, out);
}

h_result h_redis_ping(struct h_redis_pool *p) {
  struct h_redis *r = NULL;
  h_result res = h_redis_acquire(p, &r);
  if (res != H_OK) {
    return res;
  }
  redisReply *reply = NULL;
  res = h_redis_cmd(r, &reply, "PING");
  freeReplyObject(reply);
  h_redis_release(p, r);
  return res;
}

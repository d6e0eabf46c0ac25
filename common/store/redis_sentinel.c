/* redis_sentinel.c - primary discovery through Redis Sentinel. */
#include "store/redis_sentinel.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

/* Index of the sentinel that answered last: tried first next time (process-wide). */
static atomic_int preferred_sentinel;

/* The primary the sentinels named last (process-wide, one master name per process). */
static struct {
  pthread_mutex_t lock;
  char peer[280]; /* "host:port", "" before the first answer */
  long long asked_ms;
} current = {PTHREAD_MUTEX_INITIALIZER, "", 0};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records host:port as the current primary. */
static void remember(const char *host, int port) {
  pthread_mutex_lock(&current.lock);
  snprintf(current.peer, sizeof(current.peer), "%s:%d", host, port);
  current.asked_ms = now_ms();
  pthread_mutex_unlock(&current.lock);
}

/* Parses one "host[:port]" item of n bytes at s into out. */
static h_result parse_item(const char *s, size_t n, struct h_sentinel_addr *out) {
  while (n > 0 && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n > 0 && isspace((unsigned char)s[n - 1])) {
    n--;
  }
  const char *host = s;
  size_t hostlen;
  const char *rest;
  if (n > 0 && *s == '[') { /* [v6]:port */
    const char *close = memchr(s, ']', n);
    if (close == NULL) {
      return H_ERR_INVALID;
    }
    host = s + 1;
    hostlen = (size_t)(close - host);
    rest = close + 1;
  } else {
    const char *colon = memchr(s, ':', n);
    hostlen = colon != NULL ? (size_t)(colon - s) : n;
    rest = s + hostlen;
  }
  size_t restlen = n - (size_t)(rest - s);
  if (hostlen == 0 || hostlen >= sizeof(out->host) || memchr(host, ' ', hostlen) != NULL) {
    return H_ERR_INVALID;
  }
  memcpy(out->host, host, hostlen);
  out->host[hostlen] = '\0';
  out->port = H_SENTINEL_DEFAULT_PORT;
  if (restlen == 0) {
    return H_OK;
  }
  if (*rest != ':' || restlen < 2 || restlen > 6) {
    return H_ERR_INVALID;
  }
  long port = 0;
  for (size_t i = 1; i < restlen; i++) {
    if (!isdigit((unsigned char)rest[i])) {
      return H_ERR_INVALID;
    }
    port = port * 10 + (rest[i] - '0');
  }
  if (port < 1 || port > 65535) {
    return H_ERR_INVALID;
  }
  out->port = (int)port;
  return H_OK;
}

h_result h_sentinel_parse_list(const char *list, struct h_sentinel_addr *out, int max,
                               int *count) {
  *count = 0;
  if (list == NULL || list[0] == '\0') {
    return H_ERR_INVALID;
  }
  const char *p = list;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (*count >= max || parse_item(p, n, &out[*count]) != H_OK) {
      *count = 0;
      return H_ERR_INVALID;
    }
    (*count)++;
    if (comma == NULL) {
      return H_OK;
    }
    p = comma + 1;
  }
}

h_result h_sentinel_parse_master_reply(const redisReply *reply, char *host, size_t hostlen,
                                       int *port) {
  if (reply == NULL) {
    return H_ERR_INVALID;
  }
  if (reply->type == REDIS_REPLY_NIL) {
    return H_ERR_NOT_FOUND;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
    return H_ERR_INVALID;
  }
  const redisReply *h = reply->element[0];
  const redisReply *p = reply->element[1];
  if (h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING || h->len == 0 ||
      h->len >= hostlen || p->len == 0 || p->len > 5) {
    return H_ERR_INVALID;
  }
  long v = 0;
  for (size_t i = 0; i < p->len; i++) {
    if (!isdigit((unsigned char)p->str[i])) {
      return H_ERR_INVALID;
    }
    v = v * 10 + (p->str[i] - '0');
  }
  if (v < 1 || v > 65535) {
    return H_ERR_INVALID;
  }
  memcpy(host, h->str, h->len);
  host[h->len] = '\0';
  *port = (int)v;
  return H_OK;
}

bool h_sentinel_role_is_master(const redisReply *reply) {
  return reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
         reply->element[0]->type == REDIS_REPLY_STRING &&
         strcmp(reply->element[0]->str, "master") == 0;
}

char *h_sentinel_config_check(const char *sentinels, const char *master_name) {
  bool have_list = sentinels != NULL && sentinels[0] != '\0';
  bool have_name = master_name != NULL && master_name[0] != '\0';
  if (!have_list && !have_name) {
    return NULL;
  }
  if (!have_name) {
    return h_sprintf("HERALD_REDIS_MASTER_NAME: required with HERALD_REDIS_SENTINELS");
  }
  if (!have_list) {
    return h_sprintf("HERALD_REDIS_SENTINELS: required with HERALD_REDIS_MASTER_NAME");
  }
  struct h_sentinel_addr addrs[H_SENTINEL_MAX];
  int n = 0;
  if (h_sentinel_parse_list(sentinels, addrs, H_SENTINEL_MAX, &n) != H_OK) {
    return h_sprintf("HERALD_REDIS_SENTINELS: '%s' is not a list of up to %d host:port",
                     sentinels, H_SENTINEL_MAX);
  }
  for (const char *c = master_name; *c != '\0'; c++) {
    if (isspace((unsigned char)*c) || !isprint((unsigned char)*c)) {
      return h_sprintf("HERALD_REDIS_MASTER_NAME: '%s' contains spaces or control characters",
                       master_name);
    }
  }
  return NULL;
}

/* Asks one sentinel. H_OK with host/port, else H_ERR_UNAVAILABLE (logged). */
static h_result ask_one(const struct h_redis_target *t, const struct h_sentinel_addr *s,
                        char *host, size_t hostlen, int *port) {
  struct timeval tv = {t->timeout_ms / 1000, (t->timeout_ms % 1000) * 1000};
  redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
  h_result res = H_ERR_UNAVAILABLE;
  redisReply *reply = NULL;
  if (c == NULL || c->err) {
    h_log_warning("h_sentinel_resolve: redisConnectWithTimeout %s:%d failed: %s", s->host,
                  s->port, c != NULL ? c->errstr : "out of memory");
    goto out;
  }
  redisSetTimeout(c, tv);
  if (t->sentinel_password[0] != '\0') {
    reply = redisCommand(c, "AUTH %s", t->sentinel_password);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
      h_log_warning("h_sentinel_resolve: AUTH on sentinel %s:%d failed", s->host, s->port);
      goto out;
    }
    freeReplyObject(reply);
  }
  reply = redisCommand(c, "SENTINEL get-master-addr-by-name %s", t->master_name);
  h_result parsed = h_sentinel_parse_master_reply(reply, host, hostlen, port);
  if (parsed == H_OK) {
    res = H_OK;
  } else {
    h_log_warning("h_sentinel_resolve: sentinel %s:%d has no address for master '%s': %s",
                  s->host, s->port, t->master_name,
                  reply == NULL ? c->errstr
                  : reply->type == REDIS_REPLY_ERROR ? reply->str
                  : parsed == H_ERR_NOT_FOUND        ? "unknown master"
                                                     : "unexpected reply");
  }
out:
  freeReplyObject(reply);
  if (c != NULL) {
    redisFree(c);
  }
  return res;
}

h_result h_sentinel_resolve(const struct h_redis_target *t, char *host, size_t hostlen,
                            int *port) {
  struct h_sentinel_addr addrs[H_SENTINEL_MAX];
  int n = 0;
  if (h_sentinel_parse_list(t->sentinels, addrs, H_SENTINEL_MAX, &n) != H_OK) {
    h_log_error("h_sentinel_resolve: malformed sentinel list");
    return H_ERR_UNAVAILABLE;
  }
  int first = atomic_load(&preferred_sentinel) % n;
  for (int i = 0; i < n; i++) {
    int k = (first + i) % n;
    if (ask_one(t, &addrs[k], host, hostlen, port) == H_OK) {
      atomic_store(&preferred_sentinel, k);
      remember(host, *port);
      return H_OK;
    }
  }
  h_log_error("h_sentinel_resolve: none of %d sentinels gave the address of master '%s'", n,
              t->master_name);
  return H_ERR_UNAVAILABLE;
}

bool h_sentinel_is_current(const struct h_redis_target *t, const char *peer) {
  pthread_mutex_lock(&current.lock);
  bool fresh = current.peer[0] != '\0' && now_ms() - current.asked_ms < H_SENTINEL_RECHECK_MS;
  bool same = strcmp(current.peer, peer) == 0;
  if (!fresh) {
    current.asked_ms = now_ms(); /* one thread asks; the others keep the last answer */
  }
  pthread_mutex_unlock(&current.lock);
  if (fresh) {
    return same;
  }
  char host[256];
  int port = 0;
  if (h_sentinel_resolve(t, host, sizeof(host), &port) != H_OK) {
    return true;
  }
  char now[280];
  snprintf(now, sizeof(now), "%s:%d", host, port);
  return strcmp(now, peer) == 0;
}

h_result h_sentinel_check_role(redisContext *ctx) {
  redisReply *reply = redisCommand(ctx, "ROLE");
  h_result res = h_sentinel_role_is_master(reply) ? H_OK : H_ERR_UNAVAILABLE;
  if (res != H_OK) {
    h_log_warning("h_sentinel_check_role: the address the sentinels gave is not a master (%s)",
                  reply == NULL ? ctx->errstr
                  : reply->type == REDIS_REPLY_ERROR ? reply->str
                                                     : "a replica");
  }
  freeReplyObject(reply);
  return res;
}

/* Copies src into a fixed buffer; false when it does not fit. */
static bool copy_field(char *dst, size_t size, const char *src) {
  size_t n = src != NULL ? strlen(src) : 0;
  if (n >= size) {
    return false;
  }
  memcpy(dst, src != NULL ? src : "", n + 1);
  return true;
}

h_result h_redis_target_from_config(const struct h_config *cfg, struct h_redis_target *out,
                                    char **error) {
  *error = NULL;
  if (h_redis_parse_url(cfg->redis_url, cfg->redis_timeout_ms, out) != H_OK) {
    /* the URL may hold a password: not echoed */
    *error = h_sprintf("HERALD_REDIS_URL: not of the form redis://[:password@]host[:port][/db]");
    return H_ERR_INVALID;
  }
  *error = h_sentinel_config_check(cfg->redis_sentinels, cfg->redis_master_name);
  if (*error != NULL) {
    return H_ERR_INVALID;
  }
  if (!copy_field(out->sentinels, sizeof(out->sentinels), cfg->redis_sentinels) ||
      !copy_field(out->master_name, sizeof(out->master_name), cfg->redis_master_name) ||
      !copy_field(out->sentinel_password, sizeof(out->sentinel_password),
                  cfg->redis_sentinel_password)) {
    *error = h_sprintf("HERALD_REDIS_SENTINELS: the sentinel settings are too long");
    return H_ERR_INVALID;
  }
  return H_OK;
}

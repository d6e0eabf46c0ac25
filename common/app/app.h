/* app.h - the process context every service receives: configuration, the PostgreSQL
 * and Redis pools, metrics, the access-token keys and the group-commit queue.
 *
 * One struct h_app lives for the whole process (the API or a worker that runs domain
 * services); it is built before any work starts and is read-only afterwards (except
 * the counters, which are atomic). */
#ifndef HERALD_APP_H
#define HERALD_APP_H

#include <stdatomic.h>

#include "core/config.h"
#include "core/flood.h"
#include "store/db.h"
#include "crypto/jwt_cache.h"
#include "crypto/jwt_tokens.h"
#include "net/metrics.h"
#include "store/rate_counter.h"
#include "store/redis.h"

/* Counters of the in-process rate limiter (clients in one window beyond it evict the oldest). */
#define H_RATE_LOCAL_SLOTS 65536

struct h_gc; /* group commit (store/group_commit.h) */
struct h_token_epochs;
struct h_copy_cache; /* core/copy_cache.h */

struct h_stream_hub;
struct h_offload; /* api/http/offload.h */

struct h_app {
  const struct h_config *cfg;  /* borrowed, immutable */
  struct h_db *db;             /* owned */
  struct h_redis_pool *redis;  /* owned */
  struct h_metrics *metrics;   /* owned */
  struct h_jwt_config jwt;     /* points into the buffers below */
  unsigned char jwt_key[32];   /* HS256 key made at random when HERALD_JWT_SECRET is empty
                                (a set secret is used whole, from cfg) */
  size_t jwt_key_len;
  char *jwt_private_pem;       /* RS256, owned */
  char *jwt_public_pem;        /* RS256, owned */
  struct h_jwt_cache *jwt_cache; /* verified access tokens, owned (common/crypto/jwt_cache.h) */
  struct h_token_epochs *token_epochs; /* users' current token epochs, owned
                                          (common/users/token_epoch.h) */
  struct h_copy_cache *profiles; /* users' profiles, owned, NULL when HERALD_USER_CACHE_MS
                                    is 0 (common/users/profile_cache.h) */
  struct h_copy_cache *feeds;    /* users' first feed pages, owned, NULL when
                                    HERALD_FEED_CACHE_MS is 0 (common/inbox/feed_service.h) */
  atomic_int in_flight;        /* API: requests between the first and the last callback */
  atomic_bool stopping;        /* API: SIGTERM seen: answers carry Connection: close */
  struct h_rate_local *rate_local; /* limits while Redis is away, owned (store/rate_counter.h) */
  struct h_rate_leases *rate_leases; /* counts taken from Redis in blocks, owned (same) */
  struct h_flood_rules flood;  /* digests, throttles, caps (core/flood.h) */
  struct h_gc *notify_gc;      /* owned, NULL when not started or off (notification_service.h) */
  struct h_stream_hub *streams; /* API: the open notification streams, owned by the HTTP
                                   server (inbox/stream_hub.h), NULL when none runs */
  struct h_offload *offload;    /* API: the threads of the handlers that wait, owned by the
                                   HTTP server (api/http/offload.h), NULL when none runs */
};

/* Builds the resources of app from cfg (borrowed; must outlive app); name (static) is
 * the application_name of its PostgreSQL connections. Connections are opened lazily so
 * a process can start while a backend is down. Starts no threads. On a bad value
 * returns H_ERR_INVALID with *error naming the variable (caller frees). */
h_result h_app_init(struct h_app *app, const struct h_config *cfg, const char *name,
                    char **error);

/* Validates what h_app_init needs (JWT keys, Redis addresses) and releases it again;
 * connects nowhere. H_OK, or H_ERR_INVALID with *error (caller frees) naming the variable. */
h_result h_app_check_config(const struct h_config *cfg, char **error);

/* Drains and frees the group-commit queue if one was started, then everything else. */
void h_app_free(struct h_app *app);

#endif

/* app.h - what every handler can reach: configuration and shared resources.
 *
 * One struct h_app lives for the whole process; it is built before the server
 * listens and is read-only afterwards (except the counters, which are atomic). */
#ifndef HERALD_APP_H
#define HERALD_APP_H

#include <stdatomic.h>

#include "config.h"
#include "db.h"
#include "jwt_cache.h"
#include "jwt_tokens.h"
#include "metrics.h"
#include "redis.h"

struct h_gc; /* group commit (api/group_commit.h) */

struct h_app {
  const struct h_config *cfg;  /* borrowed, immutable */
  struct h_db *db;             /* owned */
  struct h_redis_pool *redis;  /* owned */
  struct h_metrics *metrics;   /* owned */
  const char *openapi_json;    /* static, compiled in */
  size_t openapi_json_len;
  struct h_jwt_config jwt;     /* points into the buffers below */
  unsigned char jwt_key[64];   /* HS256 key */
  size_t jwt_key_len;
  char *jwt_private_pem;       /* RS256, owned */
  char *jwt_public_pem;        /* RS256, owned */
  struct h_jwt_cache *jwt_cache; /* verified access tokens, owned (common/jwt_cache.h) */
  atomic_int in_flight;        /* requests between the first and the last callback */
  atomic_bool stopping;        /* deploy: SIGTERM seen: answers carry Connection: close */
  struct h_gc *notify_gc;      /* group commit: owned, NULL when off (notification_service.h) */
};

/* Builds the resources of app from cfg (borrowed; must outlive app). Connections
 * are opened lazily so the API can start while a backend is down. On a bad value
 * returns H_ERR_INVALID with *error naming the variable (caller frees). */
/* Validates what h_app_init needs (JWT keys, Redis addresses) and releases it again;
 * connects nowhere. H_OK, or H_ERR_INVALID with *error (caller frees) naming the variable. */
h_result h_app_check_config(const struct h_config *cfg, char **error);

h_result h_app_init(struct h_app *app, const struct h_config *cfg, char **error);
void h_app_free(struct h_app *app);

#endif

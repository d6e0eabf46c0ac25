/* app.c - building and freeing the process context (app.h). */
#include "app/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#include "crypto/crypto.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/group_commit.h"
#include "store/redis_sentinel.h"
#include "core/copy_cache.h"
#include "inbox/feed_service.h"
#include "users/token_epoch.h"

/* Reads a whole PEM file into a new string; NULL when unreadable. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return NULL;
  }
  char *buf = h_malloc(65536);
  size_t n = fread(buf, 1, 65535, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static h_result jwt_setup(struct h_app *app, const struct h_config *cfg, char **error) {
  struct h_jwt_config *j = &app->jwt;
  j->issuer = cfg->jwt_issuer;
  j->audience = cfg->jwt_audience;
  j->current.kid = cfg->jwt_key_id;
  if (strcmp(cfg->jwt_alg, "RS256") == 0) {
    j->rs256 = 1;
    app->jwt_private_pem = read_file(cfg->jwt_private_key_file);
    app->jwt_public_pem = read_file(cfg->jwt_public_key_file);
    if (app->jwt_private_pem == NULL || app->jwt_public_pem == NULL) {
      *error = h_sprintf("%s: cannot read the PEM file",
                         app->jwt_private_pem == NULL ? "HERALD_JWT_PRIVATE_KEY_FILE"
                                                      : "HERALD_JWT_PUBLIC_KEY_FILE");
      return H_ERR_INVALID;
    }
    j->current.sign = (const unsigned char *)app->jwt_private_pem;
    j->current.sign_len = strlen(app->jwt_private_pem);
    j->current.verify = (const unsigned char *)app->jwt_public_pem;
    j->current.verify_len = strlen(app->jwt_public_pem);
    return H_OK;
  }
  size_t keylen = strlen(cfg->jwt_secret);
  if (keylen > 0) {
    /* The whole secret, however long: cfg outlives app. */
    j->current.sign = j->current.verify = (const unsigned char *)cfg->jwt_secret;
    j->current.sign_len = j->current.verify_len = keylen;
  } else {
    h_log_warning("HERALD_JWT_SECRET is empty: using a random per-process key (dev only)");
    app->jwt_key_len = 32;
    if (h_random_bytes(app->jwt_key, app->jwt_key_len) != H_OK) {
      *error = h_sprintf("HERALD_JWT_SECRET: empty, and no random key could be made");
      return H_ERR_INVALID;
    }
    j->current.sign = j->current.verify = app->jwt_key;
    j->current.sign_len = j->current.verify_len = app->jwt_key_len;
  }
  if (cfg->jwt_previous_secret[0] != '\0') {
    j->previous.kid = cfg->jwt_previous_key_id;
    j->previous.verify = (const unsigned char *)cfg->jwt_previous_secret;
    j->previous.verify_len = strlen(cfg->jwt_previous_secret);
  }
  return H_OK;
}

h_result h_app_init(struct h_app *app, const struct h_config *cfg, const char *name,
                    char **error) {
  memset(app, 0, sizeof(*app));
  app->cfg = cfg;
  *error = NULL;
  struct h_db_options dbo = {
    .url = cfg->database_url,
    .pool_size = cfg->db_pool_size,
    .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
    .connect_timeout_s = cfg->db_connect_timeout_s,
    .statement_timeout_ms = cfg->db_statement_timeout_ms,
    .application_name = name,
    .prepared_statements = cfg->db_prepared_statements,
  };
  app->db = h_db_create(&dbo);

  struct h_redis_target target; /* URL + Sentinel (store/redis_sentinel.h) */
  if (h_redis_target_from_config(cfg, &target, error) != H_OK) {
    h_db_destroy(app->db);
    app->db = NULL;
    return H_ERR_INVALID;
  }
  app->redis = h_redis_pool_create(&target, cfg->http_threads, cfg->db_acquire_timeout_ms);
  app->metrics = h_metrics_create();

  if (jwt_setup(app, cfg, error) != H_OK) {
    h_app_free(app);
    return H_ERR_INVALID;
  }
  app->jwt_cache = h_jwt_cache_new(H_JWT_CACHE_SLOTS);
  app->token_epochs = h_token_epochs_new(H_JWT_CACHE_SLOTS, cfg->token_epoch_cache_ms);
  app->profiles = cfg->user_cache_ms > 0
                     ? h_copy_cache_new(H_JWT_CACHE_SLOTS, cfg->user_cache_ms)
                     : NULL;
  app->feeds = cfg->feed_cache_ms > 0 ? h_copy_cache_new(H_FEED_CACHE_SLOTS, cfg->feed_cache_ms)
                                      : NULL;
  app->rate_local = h_rate_local_create(H_RATE_LOCAL_SLOTS);
  app->rate_leases = h_rate_leases_create(H_RATE_LOCAL_SLOTS, cfg->rate_limit_lease);
  if (h_flood_parse(cfg, &app->flood, error) != H_OK) {
    h_app_free(app);
    return H_ERR_INVALID;
  }
  return H_OK;
}

void h_app_free(struct h_app *app) {
  h_gc_destroy(app->notify_gc); /* drains (commits and answers) what is queued */
  app->notify_gc = NULL;
  h_db_destroy(app->db);
  h_redis_pool_destroy(app->redis);
  h_metrics_destroy(app->metrics);
  memset(app->jwt_key, 0, sizeof(app->jwt_key));
  free(app->jwt_private_pem);
  free(app->jwt_public_pem);
  app->jwt_private_pem = app->jwt_public_pem = NULL;
  h_jwt_cache_free(app->jwt_cache);
  app->jwt_cache = NULL;
  h_token_epochs_free(app->token_epochs);
  app->token_epochs = NULL;
  h_copy_cache_free(app->profiles);
  app->profiles = NULL;
  h_copy_cache_free(app->feeds);
  app->feeds = NULL;
  h_rate_local_destroy(app->rate_local);
  app->rate_local = NULL;
  h_rate_leases_destroy(app->rate_leases);
  app->rate_leases = NULL;
  h_flood_free(&app->flood);
  app->db = NULL;
  app->redis = NULL;
  app->metrics = NULL;
}

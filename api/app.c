/* app.c - building and freeing the process-wide resources. */
#include "app.h"

#include <string.h>

#include "crypto.h"
#include "embedded.h"
#include "log.h"

extern const struct herald_embedded herald_openapi[];

h_result h_app_init(struct h_app *app, const struct h_config *cfg) {
  memset(app, 0, sizeof(*app));
  app->cfg = cfg;
  struct h_db_options dbo = {
    .url = cfg->database_url,
    .pool_size = cfg->db_pool_size,
    .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
    .connect_timeout_s = cfg->db_connect_timeout_s,
    .statement_timeout_ms = cfg->db_statement_timeout_ms,
    .application_name = "herald-api",
  };
  app->db = h_db_create(&dbo);

  struct h_redis_target target;
  if (h_redis_parse_url(cfg->redis_url, cfg->redis_timeout_ms, &target) != H_OK) {
    h_db_destroy(app->db);
    app->db = NULL;
    return H_ERR_INVALID;
  }
  app->redis = h_redis_pool_create(&target, cfg->http_threads, cfg->db_acquire_timeout_ms);
  app->metrics = h_metrics_create();
  app->openapi_json = herald_openapi[0].data;
  app->openapi_json_len = herald_openapi[0].len;

  size_t keylen = strlen(cfg->jwt_secret);
  if (keylen > 0) {
    app->jwt_key_len = keylen < sizeof(app->jwt_key) ? keylen : sizeof(app->jwt_key);
    memcpy(app->jwt_key, cfg->jwt_secret, app->jwt_key_len);
  } else {
    h_log_warning("HERALD_JWT_SECRET is empty: using a random per-process key (dev only)");
    app->jwt_key_len = 32;
    h_random_bytes(app->jwt_key, app->jwt_key_len);
  }
  return H_OK;
}

void h_app_free(struct h_app *app) {
  h_db_destroy(app->db);
  h_redis_pool_destroy(app->redis);
  h_metrics_destroy(app->metrics);
  memset(app->jwt_key, 0, sizeof(app->jwt_key));
  app->db = NULL;
  app->redis = NULL;
  app->metrics = NULL;
}

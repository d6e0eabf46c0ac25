/* profile_cache.c - see profile_cache.h. */
#include "users/profile_cache.h"

#include "core/log.h"
#include "store/pg_listen.h"
#include "users/token_epoch.h"

static void on_notice(void *cls, const char *payload) {
  struct h_app *app = cls;
  h_copy_cache_drop(app->profiles, payload);
  h_token_epoch_drop(app->token_epochs, payload);
}

static void on_state(void *cls, bool online) {
  struct h_app *app = cls;
  h_copy_cache_set_online(app->profiles, online);
}

struct h_pg_listen *h_profile_cache_listen(struct h_app *app) {
  if (app->profiles == NULL) {
    return NULL;
  }
  const struct h_config *cfg = app->cfg;
  bool own_url = cfg->database_listen_url[0] != '\0';
  if (!own_url && !cfg->db_prepared_statements) {
    h_log_warning("profiles are read on every request: with HERALD_DB_PREPARED_STATEMENTS=false"
                  " (a transaction pooler) the LISTEN needs HERALD_DATABASE_LISTEN_URL");
    return NULL;
  }
  struct h_pg_listen_options o = {
    .db = {.url = own_url ? cfg->database_listen_url : cfg->database_url, .pool_size = 1,
           .connect_timeout_s = cfg->db_connect_timeout_s,
           .statement_timeout_ms = cfg->db_statement_timeout_ms,
           .application_name = "herald-api-listen"},
    .channel = H_USERS_CHANNEL,
    .on_notice = on_notice,
    .on_state = on_state,
    .cls = app,
  };
  return h_pg_listen_start(&o);
}

void h_profile_cache_unlisten(struct h_pg_listen *l) {
  h_pg_listen_stop(l);
}

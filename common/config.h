/* config.h - table-driven configuration from HERALD_* environment variables.
 *
 * One row per option (variable, type, default, bounds, description). The whole
 * table is read once at start by h_config_load(); a bad value stops the program
 * before it listens, with a message naming the variable. The struct is never
 * modified afterwards and is passed to whoever needs it. Secrets may also come
 * from a file named by <VAR>_FILE (e.g. HERALD_JWT_SECRET_FILE) and are never
 * printed. */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

struct h_config {
  /* HTTP server */
  char *http_bind;
  int http_port;
  char *http_mode; /* "epoll" (thread pool) or "select" (ulfius default, for benchmarks) */
  int http_threads;
  int http_max_connections;
  int http_per_ip_connections;
  int http_timeout_s;
  int max_body_bytes;
  int max_json_depth;
  char *cors_origins; /* comma-separated, "*" for any, empty for none */
  bool hsts;
  int shutdown_timeout_s;
  /* PostgreSQL */
  char *database_url;
  int db_pool_size; /* 0: same as http_threads */
  int db_acquire_timeout_ms;
  int db_connect_timeout_s;
  int db_statement_timeout_ms;
  /* Redis */
  char *redis_url;
  int redis_timeout_ms;
  /* Logs */
  char *log_level;
  /* Auth */
  char *jwt_secret;
  char *jwt_issuer;
  char *jwt_audience;
  int access_token_ttl_s;
  char *jwt_alg;
  char *jwt_key_id;
  char *jwt_private_key_file;
  char *jwt_public_key_file;
  char *jwt_previous_secret;
  char *jwt_previous_key_id;
  int refresh_token_ttl_s;
  int lockout_threshold;
  int lockout_window_s;
  int lockout_duration_s;
  int auth_rate_limit;
  int auth_rate_window_s;
  int reset_token_ttl_s;
  int verify_token_ttl_s;
  char *public_url;
  /* Demo admin created by `herald-api create-admin` */
  char *admin_email;
  char *admin_password;
  /* Documentation assets served at /docs */
  char *docs_dir;
};

/* Kinds of values the table knows. */
enum h_config_type { H_CFG_STRING, H_CFG_INT, H_CFG_BOOL, H_CFG_ENUM };

struct h_config_option {
  const char *env;          /* "HERALD_HTTP_PORT" */
  enum h_config_type type;
  size_t offset;            /* offsetof(struct h_config, field) */
  const char *default_value;
  long min, max;            /* bounds for H_CFG_INT */
  const char *choices;      /* "a|b|c" for H_CFG_ENUM */
  bool secret;              /* never printed; may come from <env>_FILE */
  const char *description;
};

/* The table itself (terminated by a row whose env is NULL). Static. */
const struct h_config_option *h_config_options(void);

/* Fills cfg from the environment. On error returns H_ERR_INVALID and sets *error to
 * a message naming the variable (caller frees); cfg is then left cleared. */
h_result h_config_load(struct h_config *cfg, char **error);

/* Frees the strings cfg holds. */
void h_config_free(struct h_config *cfg);

/* Writes the reference of every option as a Markdown table. */
void h_config_print_markdown(FILE *out);

#endif

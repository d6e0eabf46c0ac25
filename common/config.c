/* config.c - the configuration table and its loader. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"

#define OPT(env, type, field, def, min, max, choices, secret, desc) \
  {env, type, offsetof(struct h_config, field), def, min, max, choices, secret, desc}

static const struct h_config_option options[] = {
  OPT("HERALD_HTTP_BIND", H_CFG_STRING, http_bind, "0.0.0.0", 0, 0, NULL, false,
      "IPv4 address the API listens on"),
  OPT("HERALD_HTTP_PORT", H_CFG_INT, http_port, "8080", 0, 65535, NULL, false,
      "TCP port of the API (0 picks a free one, for tests)"),
  OPT("HERALD_HTTP_MODE", H_CFG_ENUM, http_mode, "epoll", 0, 0, "epoll|select", false,
      "epoll: internal thread pool (production); select: ulfius default, kept for benchmarks"),
  OPT("HERALD_HTTP_THREADS", H_CFG_INT, http_threads, "16", 2, 1024, NULL, false,
      "epoll thread pool size; never 1 (see DESIGN.md)"),
  OPT("HERALD_HTTP_MAX_CONNECTIONS", H_CFG_INT, http_max_connections, "4096", 1, 1000000, NULL,
      false, "connections accepted at once"),
  OPT("HERALD_HTTP_PER_IP_CONNECTIONS", H_CFG_INT, http_per_ip_connections, "0", 0, 1000000,
      NULL, false, "connections per client IP (0: unlimited)"),
  OPT("HERALD_HTTP_TIMEOUT_S", H_CFG_INT, http_timeout_s, "30", 1, 3600, NULL, false,
      "idle connection timeout in seconds"),
  OPT("HERALD_MAX_BODY_BYTES", H_CFG_INT, max_body_bytes, "1048576", 1024, 104857600, NULL,
      false, "largest request body accepted (413 beyond)"),
  OPT("HERALD_MAX_JSON_DEPTH", H_CFG_INT, max_json_depth, "32", 2, 512, NULL, false,
      "deepest JSON nesting accepted (400 beyond)"),
  OPT("HERALD_CORS_ORIGINS", H_CFG_STRING, cors_origins, "", 0, 0, NULL, false,
      "comma-separated origins allowed by CORS, * for any, empty for none"),
  OPT("HERALD_HSTS", H_CFG_BOOL, hsts, "false", 0, 0, NULL, false,
      "send Strict-Transport-Security (set when served over TLS)"),
  OPT("HERALD_SHUTDOWN_TIMEOUT_S", H_CFG_INT, shutdown_timeout_s, "10", 0, 600, NULL, false,
      "how long SIGTERM waits for in-flight requests"),
  OPT("HERALD_DATABASE_URL", H_CFG_STRING, database_url,
      "postgresql://herald@127.0.0.1:5432/herald", 0, 0, NULL, true,
      "libpq connection string or URI of PostgreSQL"),
  OPT("HERALD_DB_POOL_SIZE", H_CFG_INT, db_pool_size, "0", 0, 1024, NULL, false,
      "PostgreSQL connections in the pool (0: HERALD_HTTP_THREADS)"),
  OPT("HERALD_DB_ACQUIRE_TIMEOUT_MS", H_CFG_INT, db_acquire_timeout_ms, "2000", 1, 60000, NULL,
      false, "longest wait for a pooled connection before 503"),
  OPT("HERALD_DB_CONNECT_TIMEOUT_S", H_CFG_INT, db_connect_timeout_s, "3", 1, 60, NULL, false,
      "PostgreSQL connect timeout"),
  OPT("HERALD_DB_STATEMENT_TIMEOUT_MS", H_CFG_INT, db_statement_timeout_ms, "5000", 0, 3600000,
      NULL, false, "statement_timeout of pooled connections (0: none)"),
  OPT("HERALD_REDIS_URL", H_CFG_STRING, redis_url, "redis://127.0.0.1:6379/0", 0, 0, NULL, true,
      "redis://[:password@]host:port/db"),
  OPT("HERALD_REDIS_TIMEOUT_MS", H_CFG_INT, redis_timeout_ms, "1000", 10, 60000, NULL, false,
      "Redis connect and command timeout"),
  OPT("HERALD_LOG_LEVEL", H_CFG_ENUM, log_level, "info", 0, 0, "error|warning|info|debug", false,
      "lowest level logged"),
  OPT("HERALD_JWT_SECRET", H_CFG_STRING, jwt_secret, "", 0, 0, NULL, true,
      "HS256 signing key, at least 32 bytes (generated per process when empty: dev only)"),
  OPT("HERALD_JWT_ISSUER", H_CFG_STRING, jwt_issuer, "herald", 0, 0, NULL, false,
      "iss claim of access tokens"),
  OPT("HERALD_JWT_AUDIENCE", H_CFG_STRING, jwt_audience, "herald-api", 0, 0, NULL, false,
      "aud claim of access tokens"),
  OPT("HERALD_ACCESS_TOKEN_TTL_S", H_CFG_INT, access_token_ttl_s, "900", 30, 86400, NULL, false,
      "access token lifetime"),
  OPT("HERALD_JWT_ALG", H_CFG_ENUM, jwt_alg, "HS256", 0, 0, "HS256|RS256", false,
      "access token signature algorithm"),
  OPT("HERALD_JWT_KEY_ID", H_CFG_STRING, jwt_key_id, "k1", 0, 0, NULL, false,
      "kid of the current signing key"),
  OPT("HERALD_JWT_PRIVATE_KEY_FILE", H_CFG_STRING, jwt_private_key_file, "", 0, 0, NULL, false,
      "RS256: PEM private key used to sign"),
  OPT("HERALD_JWT_PUBLIC_KEY_FILE", H_CFG_STRING, jwt_public_key_file, "", 0, 0, NULL, false,
      "RS256: PEM public key used to verify"),
  OPT("HERALD_JWT_PREVIOUS_SECRET", H_CFG_STRING, jwt_previous_secret, "", 0, 0, NULL, true,
      "HS256: the retiring key, still accepted while its tokens live (rotation)"),
  OPT("HERALD_JWT_PREVIOUS_KEY_ID", H_CFG_STRING, jwt_previous_key_id, "", 0, 0, NULL, false,
      "kid of the retiring key"),
  OPT("HERALD_REFRESH_TOKEN_TTL_S", H_CFG_INT, refresh_token_ttl_s, "2592000", 60, 31536000,
      NULL, false, "refresh token lifetime (30 days)"),
  OPT("HERALD_LOCKOUT_THRESHOLD", H_CFG_INT, lockout_threshold, "5", 1, 1000, NULL, false,
      "failed logins within the window that lock an account"),
  OPT("HERALD_LOCKOUT_WINDOW_S", H_CFG_INT, lockout_window_s, "900", 1, 86400, NULL, false,
      "window in which failed logins are counted"),
  OPT("HERALD_LOCKOUT_DURATION_S", H_CFG_INT, lockout_duration_s, "900", 1, 86400, NULL, false,
      "how long a locked account stays locked"),
  OPT("HERALD_AUTH_RATE_LIMIT", H_CFG_INT, auth_rate_limit, "30", 1, 1000000, NULL, false,
      "auth requests per client IP per window (429 beyond; fails open without Redis)"),
  OPT("HERALD_AUTH_RATE_WINDOW_S", H_CFG_INT, auth_rate_window_s, "60", 1, 3600, NULL, false,
      "rate-limit window"),
  OPT("HERALD_RESET_TOKEN_TTL_S", H_CFG_INT, reset_token_ttl_s, "3600", 60, 604800, NULL, false,
      "password-reset token lifetime"),
  OPT("HERALD_VERIFY_TOKEN_TTL_S", H_CFG_INT, verify_token_ttl_s, "172800", 60, 2592000, NULL,
      false, "e-mail verification token lifetime"),
  OPT("HERALD_PUBLIC_URL", H_CFG_STRING, public_url, "http://localhost:8080", 0, 0, NULL, false,
      "base URL of the apps, used in links sent by e-mail"),
  OPT("HERALD_ADMIN_EMAIL", H_CFG_STRING, admin_email, "", 0, 0, NULL, false,
      "e-mail of the admin made by `herald-api create-admin`"),
  OPT("HERALD_ADMIN_PASSWORD", H_CFG_STRING, admin_password, "", 0, 0, NULL, true,
      "password of that admin"),
  OPT("HERALD_DOCS_DIR", H_CFG_STRING, docs_dir, "", 0, 0, NULL, false,
      "folder with the /docs page assets (empty: next to the binary)"),
  {NULL, H_CFG_STRING, 0, NULL, 0, 0, NULL, false, NULL},
};

const struct h_config_option *h_config_options(void) { return options; }

static char *read_secret_file(const char *path, char **error, const char *env) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    *error = h_sprintf("%s_FILE: cannot read '%s': %s", env, path, strerror(errno));
    return NULL;
  }
  char buf[8192];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
    buf[--n] = '\0';
  }
  return h_strdup(buf);
}

static bool parse_bool(const char *s, bool *out) {
  static const char *yes[] = {"1", "true", "yes", "on"};
  static const char *no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

static bool enum_allows(const char *choices, const char *value) {
  size_t len = strlen(value);
  const char *p = choices;
  while (*p != '\0') {
    const char *end = strchr(p, '|');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n == len && strncmp(p, value, n) == 0) {
      return true;
    }
    p += n + (end != NULL ? 1 : 0);
  }
  return false;
}

/* Stores one value into cfg; returns a message the caller frees, or NULL when valid. */
static char *set_option(struct h_config *cfg, const struct h_config_option *o, char *value) {
  void *field = (char *)cfg + o->offset;
  switch (o->type) {
  case H_CFG_STRING:
    *(char **)field = value;
    return NULL;
  case H_CFG_ENUM:
    if (!enum_allows(o->choices, value)) {
      char *msg = h_sprintf("%s: '%s' is not one of %s", o->env, value, o->choices);
      free(value);
      return msg;
    }
    *(char **)field = value;
    return NULL;
  case H_CFG_BOOL: {
    bool b = false;
    char *msg = parse_bool(value, &b)
                    ? NULL
                    : h_sprintf("%s: '%s' is not a boolean (true/false)", o->env, value);
    *(bool *)field = b;
    free(value);
    return msg;
  }
  case H_CFG_INT: {
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    char *msg = NULL;
    if (value[0] == '\0' || isspace((unsigned char)value[0]) || *end != '\0' || errno != 0) {
      msg = h_sprintf("%s: '%s' is not an integer", o->env, value);
    } else if (v < o->min || v > o->max) {
      msg = h_sprintf("%s: %ld is out of range %ld..%ld", o->env, v, o->min, o->max);
    } else {
      *(int *)field = (int)v;
    }
    free(value);
    return msg;
  }
  }
  free(value);
  return h_sprintf("%s: unknown option type", o->env);
}

h_result h_config_load(struct h_config *cfg, char **error) {
  memset(cfg, 0, sizeof(*cfg));
  *error = NULL;
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    const char *raw = getenv(o->env);
    char *value = NULL;
    if (o->secret && (raw == NULL || raw[0] == '\0')) {
      char file_env[128];
      snprintf(file_env, sizeof(file_env), "%s_FILE", o->env);
      const char *path = getenv(file_env);
      if (path != NULL && path[0] != '\0') {
        value = read_secret_file(path, error, o->env);
        if (value == NULL) {
          h_config_free(cfg);
          return H_ERR_INVALID;
        }
      }
    }
    if (value == NULL) {
      value = h_strdup(raw != NULL ? raw : o->default_value);
    }
    *error = set_option(cfg, o, value);
    if (*error != NULL) {
      h_config_free(cfg);
      return H_ERR_INVALID;
    }
  }
  if (cfg->db_pool_size == 0) {
    cfg->db_pool_size = cfg->http_threads;
  }
  if (strcmp(cfg->jwt_alg, "RS256") == 0 &&
      (cfg->jwt_private_key_file[0] == '\0' || cfg->jwt_public_key_file[0] == '\0')) {
    *error = h_sprintf("HERALD_JWT_PRIVATE_KEY_FILE: RS256 needs it and HERALD_JWT_PUBLIC_KEY_FILE");
    h_config_free(cfg);
    return H_ERR_INVALID;
  }
  if (cfg->jwt_previous_secret[0] != '\0' && cfg->jwt_previous_key_id[0] == '\0') {
    *error = h_sprintf("HERALD_JWT_PREVIOUS_KEY_ID: required with HERALD_JWT_PREVIOUS_SECRET");
    h_config_free(cfg);
    return H_ERR_INVALID;
  }
  if (cfg->jwt_secret[0] != '\0' && strlen(cfg->jwt_secret) < 32) {
    *error = h_sprintf("HERALD_JWT_SECRET: must be at least 32 bytes");
    h_config_free(cfg);
    return H_ERR_INVALID;
  }
  return H_OK;
}

void h_config_free(struct h_config *cfg) {
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    if (o->type == H_CFG_STRING || o->type == H_CFG_ENUM) {
      char **field = (char **)((char *)cfg + o->offset);
      free(*field);
      *field = NULL;
    }
  }
}

void h_config_print_markdown(FILE *out) {
  fprintf(out, "| variable | default | description |\n|---|---|---|\n");
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    const char *def = o->default_value[0] != '\0' ? o->default_value : "(empty)";
    fprintf(out, "| `%s` | `%s` | %s", o->env, def, o->description);
    if (o->type == H_CFG_INT) {
      fprintf(out, " (%ld..%ld)", o->min, o->max);
    } else if (o->type == H_CFG_ENUM) {
      fprintf(out, " (%s)", o->choices);
    } else if (o->type == H_CFG_BOOL) {
      fprintf(out, " (true/false)");
    }
    if (o->secret) {
      fprintf(out, "; secret: also read from the file named by `%s_FILE`", o->env);
    }
    fprintf(out, " |\n");
  }
}

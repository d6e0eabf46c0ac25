/* auth_common.c - token pairs, secrets and transactions of the sign-in services. */
#include "users/auth_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "users/token_repo.h"

/* A new secret token: raw (caller frees) and its hash; NULL when the CSPRNG fails. */
char *h_auth_new_secret(const char *prefix, char hash[65]) {
  char *random = h_random_token(32);
  if (random == NULL) {
    return NULL;
  }
  char *token = h_sprintf("%s%s", prefix, random);
  free(random);
  h_sha256_hex(token, strlen(token), hash);
  return token;
}

/* Issues an access token and a refresh token (in g->family, or a new one). */
h_result h_auth_issue_pair(struct h_app *app, PGconn *conn, const struct h_auth_grant *g,
                           const struct h_actor *actor, json_t **tokens) {
  const struct h_config *cfg = app->cfg;
  char *access = NULL, hash[65], family[37];
  if (g->family != NULL) {
    snprintf(family, sizeof(family), "%s", g->family);
  } else if (h_uuid_v4(family) != H_OK) {
    return H_ERR_INTERNAL;
  }
  struct h_jwt_session session = {.epoch = g->epoch, .sid = family, .mfa = g->mfa};
  h_result r = h_jwt_issue_session(&app->jwt, g->user_id, g->role, &session,
                                   cfg->access_token_ttl_s, (long)time(NULL), &access);
  if (r != H_OK) {
    return r;
  }
  char *refresh = h_auth_new_secret("rt_", hash);
  if (refresh == NULL) {
    free(access);
    return H_ERR_INTERNAL;
  }
  r = h_refresh_insert(conn, g->user_id, family, hash, cfg->refresh_token_ttl_s, actor->ip,
                       actor->user_agent, g->mfa);
  if (r == H_OK) {
    *tokens = json_pack("{sssssssi}", "access_token", access, "refresh_token", refresh,
                        "token_type", "Bearer", "expires_in", cfg->access_token_ttl_s);
  }
  free(access);
  free(refresh);
  return r;
}

/* Commits (or rolls back on error) and releases conn; returns the first error. */
/* Acquires a connection and opens a transaction. */

/* auth_common.h - what the sign-in services share: token pairs, secrets, transactions.
 *
 * Used by auth_service.c, mfa_service.c and session_service.c only. */
#ifndef HERALD_AUTH_COMMON_H
#define HERALD_AUTH_COMMON_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

/* Who a token pair is for: the session (refresh family; NULL starts one) and the claims. */
struct h_auth_grant {
  const char *user_id, *role, *family;
  long epoch; /* the user's token epoch */
  bool mfa;   /* the sign-in passed a second factor */
};

/* Issues an access token and a refresh token (in g->family, or a new one) into *tokens
 * ({"access_token","refresh_token","token_type","expires_in"}, a new reference). */
h_result h_auth_issue_pair(struct h_app *app, PGconn *conn, const struct h_auth_grant *g,
                           const struct h_actor *actor, json_t **tokens);

/* A new secret token prefix + 43 URL-safe characters (caller frees) and its SHA-256 hex;
 * NULL when the CSPRNG fails. */
char *h_auth_new_secret(const char *prefix, char hash[65]);


#endif

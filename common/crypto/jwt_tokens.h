/* jwt_tokens.h - access tokens: JWT via libjwt, HS256 by default, RS256 by configuration.
 *
 * Verification is strict: the algorithm must be the configured one (so "none" and
 * HS/RS confusion fail), the key is chosen by the header's kid (current or previous,
 * for rotation), and iss, aud, exp, iat, sub and role are all checked. */
#ifndef HERALD_JWT_TOKENS_H
#define HERALD_JWT_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

struct h_jwt_key {
  const char *kid;                 /* key id in the header */
  const unsigned char *sign;       /* HS256 secret or RS256 private PEM; NULL: verify only */
  size_t sign_len;
  const unsigned char *verify;     /* HS256 secret or RS256 public PEM */
  size_t verify_len;
};

struct h_jwt_config {
  int rs256;                       /* 0: HS256, 1: RS256 */
  struct h_jwt_key current;
  struct h_jwt_key previous;       /* kid NULL when there is none */
  const char *issuer;
  const char *audience;
};

struct h_jwt_claims {
  char sub[37];
  char role[16];
  char jti[37];
  long iat;
  long exp;
  long epoch;   /* "ep": the user's token epoch at issue (0 when absent) */
  char sid[37]; /* "sid": the session (refresh-token family), "" when absent */
  bool mfa;     /* "mfa": the sign-in passed a second factor */
};

/* What h_jwt_issue_session adds to sub and role. */
struct h_jwt_session {
  long epoch;
  const char *sid; /* NULL: none */
  bool mfa;
};

/* Signs a token for sub with role, valid ttl seconds from now; *token is a new
 * string the caller frees. */
h_result h_jwt_issue(const struct h_jwt_config *cfg, const char *sub, const char *role, long ttl,
                     long now, char **token);

/* The same, carrying the session claims (ep, sid, mfa) that authn checks. */
h_result h_jwt_issue_session(const struct h_jwt_config *cfg, const char *sub, const char *role,
                             const struct h_jwt_session *session, long ttl, long now,
                             char **token);

/* Verifies token at time now. H_OK fills out; H_ERR_UNAUTHORIZED for anything wrong
 * (malformed, bad signature, wrong alg/kid/iss/aud, expired, bad claims). */
h_result h_jwt_verify(const struct h_jwt_config *cfg, const char *token, long now,
                      struct h_jwt_claims *out);

#endif

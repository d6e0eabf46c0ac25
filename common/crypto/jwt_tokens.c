/* jwt_tokens.c - issuing and verifying access tokens with libjwt 1.10. */
#include "crypto/jwt_tokens.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"

#define MAX_TOKEN_LEN 4096
#define CLOCK_SKEW_S 60

h_result h_jwt_issue(const struct h_jwt_config *cfg, const char *sub, const char *role, long ttl,
                     long now, char **token) {
  const struct h_jwt_session none = {0};
  return h_jwt_issue_session(cfg, sub, role, &none, ttl, now, token);
}

h_result h_jwt_issue_session(const struct h_jwt_config *cfg, const char *sub, const char *role,
                             const struct h_jwt_session *session, long ttl, long now,
                             char **token) {
  jwt_t *jwt = NULL;
  char jti[H_UUID_LEN + 1];
  *token = NULL;
  if (cfg->current.sign == NULL || h_uuid_v4(jti) != H_OK || jwt_new(&jwt) != 0) {
    return H_ERR_INTERNAL;
  }
  int rc = jwt_set_alg(jwt, cfg->rs256 ? JWT_ALG_RS256 : JWT_ALG_HS256, cfg->current.sign,
                       (int)cfg->current.sign_len);
  rc |= jwt_add_header(jwt, "kid", cfg->current.kid);
  rc |= jwt_add_grant(jwt, "iss", cfg->issuer);
  rc |= jwt_add_grant(jwt, "aud", cfg->audience);
  rc |= jwt_add_grant(jwt, "sub", sub);
  rc |= jwt_add_grant(jwt, "role", role);
  rc |= jwt_add_grant(jwt, "jti", jti);
  rc |= jwt_add_grant_int(jwt, "iat", now);
  rc |= jwt_add_grant_int(jwt, "exp", now + ttl);
  rc |= jwt_add_grant_int(jwt, "ep", session->epoch);
  if (session->sid != NULL) {
    rc |= jwt_add_grant(jwt, "sid", session->sid);
  }
  if (session->mfa) {
    rc |= jwt_add_grant_bool(jwt, "mfa", 1);
  }
  char *s = rc == 0 ? jwt_encode_str(jwt) : NULL;
  jwt_free(jwt);
  if (s == NULL) {
    return H_ERR_INTERNAL;
  }
  *token = h_strdup(s);
  free(s);
  return H_OK;
}

/* Decodes the (unverified) header segment into a JSON object the caller decrefs. */
static json_t *read_header(const char *token) {
  const char *dot = strchr(token, '.');
  if (dot == NULL || dot == token || (size_t)(dot - token) > 512) {
    return NULL;
  }
  char b64[700];
  size_t n = 0;
  for (const char *p = token; p < dot; p++) {
    b64[n++] = *p == '-' ? '+' : *p == '_' ? '/' : *p;
  }
  while (n % 4 != 0) {
    b64[n++] = '=';
  }
  b64[n] = '\0';
  unsigned char raw[600];
  int len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
  if (len <= 0) {
    return NULL;
  }
  while (len > 0 && raw[len - 1] == '\0') { /* EVP_DecodeBlock counts padding bytes */
    len--;
  }
  json_t *h = json_loadb((const char *)raw, (size_t)len, 0, NULL);
  if (!json_is_object(h)) {
    json_decref(h);
    return NULL;
  }
  return h;
}

static const struct h_jwt_key *pick_key(const struct h_jwt_config *cfg, const char *token) {
  json_t *h = read_header(token);
  if (h == NULL) {
    return NULL;
  }
  const char *alg = json_string_value(json_object_get(h, "alg"));
  const char *kid = json_string_value(json_object_get(h, "kid"));
  const struct h_jwt_key *key = NULL;
  if (alg != NULL && strcmp(alg, cfg->rs256 ? "RS256" : "HS256") == 0) {
    if (kid == NULL || strcmp(kid, cfg->current.kid) == 0) {
      key = &cfg->current;
    } else if (cfg->previous.kid != NULL && strcmp(kid, cfg->previous.kid) == 0) {
      key = &cfg->previous;
    }
  }
  json_decref(h);
  return key;
}

static int grant_is(jwt_t *jwt, const char *name, const char *want) {
  const char *v = jwt_get_grant(jwt, name);
  return v != NULL && strcmp(v, want) == 0;
}

h_result h_jwt_verify(const struct h_jwt_config *cfg, const char *token, long now,
                      struct h_jwt_claims *out) {
  memset(out, 0, sizeof(*out));
  if (token == NULL || strlen(token) > MAX_TOKEN_LEN) {
    return H_ERR_UNAUTHORIZED;
  }
  const struct h_jwt_key *key = pick_key(cfg, token);
  if (key == NULL || key->verify == NULL) {
    return H_ERR_UNAUTHORIZED;
  }
  jwt_t *jwt = NULL;
  if (jwt_decode(&jwt, token, key->verify, (int)key->verify_len) != 0 || jwt == NULL) {
    return H_ERR_UNAUTHORIZED;
  }
  h_result r = H_ERR_UNAUTHORIZED;
  jwt_alg_t want = cfg->rs256 ? JWT_ALG_RS256 : JWT_ALG_HS256;
  const char *sub = jwt_get_grant(jwt, "sub");
  const char *role = jwt_get_grant(jwt, "role");
  const char *jti = jwt_get_grant(jwt, "jti");
  long exp = jwt_get_grant_int(jwt, "exp");
  long iat = jwt_get_grant_int(jwt, "iat");
  if (jwt_get_alg(jwt) == want && grant_is(jwt, "iss", cfg->issuer) &&
      grant_is(jwt, "aud", cfg->audience) && exp > now && iat <= now + CLOCK_SKEW_S &&
      h_uuid_valid(sub) && role != NULL &&
      (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0)) {
    snprintf(out->sub, sizeof(out->sub), "%s", sub);
    snprintf(out->role, sizeof(out->role), "%s", role);
    snprintf(out->jti, sizeof(out->jti), "%s", jti != NULL ? jti : "");
    out->iat = iat;
    out->exp = exp;
    out->epoch = jwt_get_grant_int(jwt, "ep"); /* 0 when absent */
    const char *sid = jwt_get_grant(jwt, "sid");
    snprintf(out->sid, sizeof(out->sid), "%s", sid != NULL && h_uuid_valid(sid) ? sid : "");
    out->mfa = jwt_get_grant_bool(jwt, "mfa") == 1;
    r = H_OK;
  }
  jwt_free(jwt);
  return r;
}

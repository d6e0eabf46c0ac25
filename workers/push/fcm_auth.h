/* fcm_auth.h - OAuth2 access tokens for FCM HTTP v1 from a service account.
 *
 * The service-account JSON file gives client_email, private_key (PEM),
 * private_key_id, token_uri and project_id. A JWT signed with RS256 (libjwt) is
 * exchanged at token_uri for an access token, cached until shortly before it
 * expires and shared by every thread. */
#ifndef HERALD_FCM_AUTH_H
#define HERALD_FCM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "net/http_client.h"
#include "core/result.h"

struct h_fcm_auth;

/* Reads the credentials at path. On failure returns H_ERR_INVALID with *error
 * (caller frees). Caller frees *out with h_fcm_auth_free. */
h_result h_fcm_auth_load(const char *path, struct h_fcm_auth **out, char **error);
void h_fcm_auth_free(struct h_fcm_auth *a);

/* project_id of the credentials (borrowed). */
const char *h_fcm_auth_project(const struct h_fcm_auth *a);

/* The signed assertion for now: a new string the caller frees, or NULL when
 * signing failed. */
char *h_fcm_auth_assertion(const struct h_fcm_auth *a, time_t now);

/* Copies a valid access token into out, fetching one through http when none is
 * cached (or the cached one is stale). H_ERR_UNAVAILABLE (err filled) when the
 * token endpoint failed; *retry_after_s receives its Retry-After or -1. */
h_result h_fcm_auth_token(struct h_fcm_auth *a, struct h_http *http, char *out, size_t outlen,
                          char *err, size_t errlen, int *retry_after_s);

/* Forgets token if it is the cached one (FCM answered 401 to it). */
void h_fcm_auth_invalidate(struct h_fcm_auth *a, const char *token);

/* How many tokens were fetched so far (for logs and tests). */
unsigned long h_fcm_auth_fetches(const struct h_fcm_auth *a);

#endif

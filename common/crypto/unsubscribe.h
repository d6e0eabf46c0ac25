/* unsubscribe.h - signed one-click unsubscribe links (RFC 8058): herald-email puts them in
 * List-Unsubscribe, the API's POST /api/v1/unsubscribe checks them. A link names a user and a
 * category and carries hex(HMAC-SHA256(key, user_id "\n" category)), the key derived from
 * HERALD_UNSUBSCRIBE_SECRET or else HERALD_JWT_SECRET. */
#ifndef HERALD_UNSUBSCRIBE_H
#define HERALD_UNSUBSCRIBE_H

#include <stdbool.h>

#include "core/config.h"

#define H_UNSUBSCRIBE_SIG_LEN 64 /* hex characters */

struct h_unsubscribe_key {
  unsigned char bytes[32];
};

/* The signing key of cfg into *key; false when neither secret is set (no links then). */
bool h_unsubscribe_key_from_config(const struct h_config *cfg, struct h_unsubscribe_key *key);

/* The signature of (user_id, category) as 64 hex characters and a NUL. Pure. */
void h_unsubscribe_sign(const struct h_unsubscribe_key *key, const char *user_id,
                        const char *category, char out[H_UNSUBSCRIBE_SIG_LEN + 1]);

/* True when sig is the signature of (user_id, category) (constant time). sig may be NULL. */
bool h_unsubscribe_verify(const struct h_unsubscribe_key *key, const char *user_id,
                          const char *category, const char *sig);

/* "<HERALD_PUBLIC_URL>/api/v1/unsubscribe?user=..&category=..&sig=..". New string the caller
 * frees, or NULL without a key. */
char *h_unsubscribe_url(const struct h_config *cfg, const char *user_id, const char *category);

#endif

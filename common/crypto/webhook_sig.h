/* webhook_sig.h - Standard Webhooks signatures (https://www.standardwebhooks.com):
 * secrets "whsec_" + base64 of 24-64 random bytes; the signature of a message is
 * "v1," + base64(HMAC-SHA256(secret bytes, "<webhook-id>.<webhook-timestamp>.<body>")),
 * several space-separated in one webhook-signature header while two secrets are valid. */
#ifndef HERALD_WEBHOOK_SIG_H
#define HERALD_WEBHOOK_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

/* A new random secret "whsec_..." (32 bytes), caller frees; aborts when the CSPRNG fails. */
char *h_whsec_generate(void);

/* The key bytes of a "whsec_" secret into key (at most 64 bytes); *keylen receives how
 * many. H_ERR_INVALID when secret is not "whsec_" + base64 of 24-64 bytes. */
h_result h_whsec_key(const char *secret, unsigned char key[64], size_t *keylen);

/* "v1,<base64>" of id.timestamp.body under secret into out (at least 52 bytes).
 * H_ERR_INVALID when the secret is malformed. */
h_result h_whsec_sign(const char *secret, const char *id, long long timestamp,
                      const char *body, size_t body_len, char *out, size_t outlen);

/* Base64 (standard alphabet, padded) of n bytes into out (4*ceil(n/3)+1 bytes); decoding
 * is crypto.h's h_base64_decode. */
void h_base64_encode(const unsigned char *in, size_t n, char *out);

#endif

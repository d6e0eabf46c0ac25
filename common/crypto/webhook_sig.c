/* webhook_sig.c - Standard Webhooks secrets and signatures (see webhook_sig.h). */
#include "crypto/webhook_sig.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"

#define WHSEC_PREFIX "whsec_"

void h_base64_encode(const unsigned char *in, size_t n, char *out) {
  EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

char *h_whsec_generate(void) {
  unsigned char key[32];
  char b64[45];
  h_random_bytes_or_abort(key, sizeof(key));
  h_base64_encode(key, sizeof(key), b64);
  return h_sprintf(WHSEC_PREFIX "%s", b64);
}

h_result h_whsec_key(const char *secret, unsigned char key[64], size_t *keylen) {
  *keylen = 0;
  if (secret == NULL || strncmp(secret, WHSEC_PREFIX, strlen(WHSEC_PREFIX)) != 0) {
    return H_ERR_INVALID;
  }
  const char *b64 = secret + strlen(WHSEC_PREFIX);
  if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
      strlen(b64)) {
    return H_ERR_INVALID;
  }
  unsigned char *raw = NULL;
  size_t n = 0;
  if (!h_base64_decode(b64, &raw, &n) || n < 24 || n > 64) {
    free(raw);
    return H_ERR_INVALID;
  }
  memcpy(key, raw, n);
  free(raw);
  *keylen = n;
  return H_OK;
}

h_result h_whsec_sign(const char *secret, const char *id, long long timestamp,
                      const char *body, size_t body_len, char *out, size_t outlen) {
  unsigned char key[64], mac[32];
  size_t keylen = 0;
  if (outlen < 52 || h_whsec_key(secret, key, &keylen) != H_OK) {
    return H_ERR_INVALID;
  }
  char head[128];
  int hl = snprintf(head, sizeof(head), "%s.%lld.", id, timestamp);
  size_t total = (size_t)hl + body_len;
  char *msg = h_malloc(total + 1);
  memcpy(msg, head, (size_t)hl);
  memcpy(msg + hl, body, body_len);
  h_hmac_sha256(key, keylen, msg, total, mac);
  free(msg);
  memcpy(out, "v1,", 3);
  h_base64_encode(mac, sizeof(mac), out + 3);
  return H_OK;
}

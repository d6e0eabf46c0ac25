/* unsubscribe.c - signing and checking one-click unsubscribe links. */
#include "crypto/unsubscribe.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "net/http_client.h"

static const char key_label[] = "herald one-click unsubscribe v1";

bool h_unsubscribe_key_from_config(const struct h_config *cfg, struct h_unsubscribe_key *key) {
  const char *secret = cfg->unsubscribe_secret != NULL && cfg->unsubscribe_secret[0] != '\0'
                           ? cfg->unsubscribe_secret
                           : cfg->jwt_secret;
  memset(key, 0, sizeof(*key));
  if (secret == NULL || secret[0] == '\0') {
    return false;
  }
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)key_label,
       sizeof(key_label) - 1, key->bytes, &len);
  return len == sizeof(key->bytes);
}

void h_unsubscribe_sign(const struct h_unsubscribe_key *key, const char *user_id,
                        const char *category, char out[H_UNSUBSCRIBE_SIG_LEN + 1]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  char *data = h_sprintf("%s\n%s", user_id, category);
  HMAC(EVP_sha256(), key->bytes, (int)sizeof(key->bytes), (const unsigned char *)data,
       strlen(data), mac, &len);
  free(data);
  h_hex_encode(mac, 32, out);
  out[H_UNSUBSCRIBE_SIG_LEN] = '\0';
}

bool h_unsubscribe_verify(const struct h_unsubscribe_key *key, const char *user_id,
                          const char *category, const char *sig) {
  char want[H_UNSUBSCRIBE_SIG_LEN + 1];
  if (sig == NULL || user_id == NULL || category == NULL) {
    return false;
  }
  h_unsubscribe_sign(key, user_id, category, want);
  return h_consttime_eq(want, H_UNSUBSCRIBE_SIG_LEN, sig, strlen(sig));
}

char *h_unsubscribe_url(const struct h_config *cfg, const char *user_id, const char *category) {
  struct h_unsubscribe_key key;
  if (!h_unsubscribe_key_from_config(cfg, &key)) {
    return NULL;
  }
  char sig[H_UNSUBSCRIBE_SIG_LEN + 1];
  h_unsubscribe_sign(&key, user_id, category, sig);
  char *cat = h_http_escape(category);
  size_t base_len = strlen(cfg->public_url);
  while (base_len > 0 && cfg->public_url[base_len - 1] == '/') {
    base_len--;
  }
  char *url = h_sprintf("%.*s/api/v1/unsubscribe?user=%s&category=%s&sig=%s", (int)base_len,
                        cfg->public_url, user_id, cat, sig);
  free(cat);
  memset(&key, 0, sizeof(key));
  return url;
}

/* totp.c - see totp.h. */
#include "users/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

uint64_t h_totp_step(long long t) {
  return t < 0 ? 0 : (uint64_t)t / H_TOTP_PERIOD_S;
}

long h_totp_code(enum h_totp_hash hash, const unsigned char *key, size_t keylen,
                 uint64_t counter, int digits) {
  static const long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  if (digits < 6 || digits > 8 || key == NULL) {
    return -1;
  }
  const EVP_MD *md = hash == H_TOTP_SHA256   ? EVP_sha256()
                     : hash == H_TOTP_SHA512 ? EVP_sha512()
                                             : EVP_sha1();
  unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  for (int i = 7; i >= 0; i--) {
    msg[i] = (unsigned char)(counter & 0xff);
    counter >>= 8;
  }
  if (HMAC(md, key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20) {
    return -1;
  }
  /* Dynamic truncation (RFC 4226 section 5.3). */
  int off = mac[maclen - 1] & 0x0f;
  long bin = ((long)(mac[off] & 0x7f) << 24) | ((long)mac[off + 1] << 16) |
             ((long)mac[off + 2] << 8) | (long)mac[off + 3];
  OPENSSL_cleanse(mac, sizeof(mac));
  return bin % pow10[digits];
}

bool h_totp_verify(const unsigned char *key, size_t keylen, const char *code, uint64_t now_step,
                   int window, uint64_t not_after, uint64_t *step) {
  if (code == NULL || strlen(code) != H_TOTP_DIGITS) {
    return false;
  }
  for (int i = 0; i < H_TOTP_DIGITS; i++) {
    if (code[i] < '0' || code[i] > '9') {
      return false;
    }
  }
  bool found = false;
  for (int d = -window; d <= window; d++) {
    if (d < 0 && now_step < (uint64_t)-d) {
      continue;
    }
    uint64_t s = now_step + (uint64_t)(long long)d;
    char want[16];
    snprintf(want, sizeof(want), "%06ld", h_totp_code(H_TOTP_SHA1, key, keylen, s, H_TOTP_DIGITS));
    /* Every step is computed and compared in constant time: no early exit. */
    if (CRYPTO_memcmp(want, code, H_TOTP_DIGITS) == 0 && s > not_after && !found) {
      found = true;
      *step = s;
    }
  }
  return found;
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void h_base32_encode(const unsigned char *in, size_t n, char *out) {
  size_t o = 0;
  unsigned int buf = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    buf = (buf << 8) | in[i];
    bits += 8;
    while (bits >= 5) {
      out[o++] = B32[(buf >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) {
    out[o++] = B32[(buf << (5 - bits)) & 31];
  }
  out[o] = '\0';
}

int h_base32_decode(const char *in, unsigned char *out, size_t cap) {
  size_t o = 0;
  unsigned int buf = 0;
  int bits = 0;
  for (const char *p = in; *p != '\0'; p++) {
    char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
    if (c == ' ' || c == '=' || c == '-') {
      continue;
    }
    const char *at = strchr(B32, c);
    if (c == '\0' || at == NULL) {
      return -1;
    }
    buf = (buf << 5) | (unsigned int)(at - B32);
    bits += 5;
    if (bits >= 8) {
      if (o >= cap) {
        return -1;
      }
      out[o++] = (unsigned char)((buf >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return (int)o;
}

/* Percent-encodes s (unreserved characters kept) into a new string. */
static char *pct(const char *s) {
  char *out = h_malloc(strlen(s) * 3 + 1);
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      out[o++] = (char)*p;
    } else {
      o += (size_t)sprintf(out + o, "%%%02X", *p);
    }
  }
  out[o] = '\0';
  return out;
}

char *h_totp_uri(const char *issuer, const char *account, const char *secret_b32) {
  char *i = pct(issuer);
  char *a = pct(account);
  char *uri = h_sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d"
                        "&period=%d",
                        i, a, secret_b32, i, H_TOTP_DIGITS, H_TOTP_PERIOD_S);
  free(a);
  free(i);
  return uri;
}

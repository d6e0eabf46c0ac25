/* crypto.c - OpenSSL primitives. */
#include "crypto/crypto.h"

#include <ctype.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

/* scrypt cost: N=2^15, r=8, p=3 (32 MiB per hash, one of OWASP's recommended settings);
 * stored with every hash, so older hashes still verify and are replaced at the next
 * sign-in (h_password_needs_rehash). The API allocates blocks this big with mmap
 * (api/main.c), so the memory goes back to the system after each hash. */
#define SCRYPT_N 32768UL
#define SCRYPT_R 8UL
#define SCRYPT_P 3UL
#define SCRYPT_MAXMEM (160UL * 1024 * 1024)
#define SALT_LEN 16
#define HASH_LEN 32

static h_random_source random_source;
static atomic_uint random_generation; /* raised by a new source and by fork: drops the id pools */

void h_random_set_source(h_random_source fn) {
  random_source = fn;
  atomic_fetch_add(&random_generation, 1);
}

h_result h_random_bytes(unsigned char *buf, size_t n) {
  if (n > INT_MAX) {
    return H_ERR_INTERNAL;
  }
  int ok = random_source != NULL ? random_source(buf, (int)n) : RAND_bytes(buf, (int)n);
  if (ok != 1) {
    OPENSSL_cleanse(buf, n);
    return H_ERR_INTERNAL;
  }
  return H_OK;
}

void h_random_bytes_or_abort(unsigned char *buf, size_t n) {
  if (h_random_bytes(buf, n) != H_OK) {
    h_log_error("h_random_bytes: the CSPRNG failed (RAND_bytes); stopping");
    abort();
  }
}

void h_hex_encode(const unsigned char *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * n] = '\0';
}

/* The version and variant bits, then the 8-4-4-4-12 text. */
static void format_uuid(unsigned char b[16], unsigned version, char out[H_UUID_LEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      *o++ = '-';
    }
    *o++ = digits[b[i] >> 4];
    *o++ = digits[b[i] & 0x0f];
  }
  *o = '\0';
}

/* The CSPRNG's bytes for time-ordered row ids (h_uuid_v7, 10 bytes each), drawn RAND_bytes
 * 512 at a time per thread: one call into OpenSSL (its DRBG lock, its parameter lookups) for
 * 51 ids instead of one each. A fork (a child must not repeat its parent's ids) and
 * h_random_set_source raise random_generation, which drops every pool; row ids are public, so
 * what is left in one is no secret. */
#define ID_POOL 512
static void forked(void) { atomic_fetch_add(&random_generation, 1); }
static void watch_forks(void) { pthread_atfork(NULL, NULL, forked); }

static h_result id_bytes(unsigned char *out, size_t n) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  static _Thread_local unsigned char pool[ID_POOL];
  static _Thread_local size_t used = ID_POOL;
  static _Thread_local unsigned generation;
  pthread_once(&once, watch_forks);
  unsigned g = atomic_load(&random_generation);
  if (used + n > ID_POOL || generation != g) {
    if (h_random_bytes(pool, sizeof(pool)) != H_OK) {
      used = ID_POOL;
      return H_ERR_INTERNAL;
    }
    used = 0;
    generation = g;
  }
  memcpy(out, pool + used, n);
  used += n;
  return H_OK;
}

h_result h_uuid_v4(char out[H_UUID_LEN + 1]) {
  unsigned char b[16];
  if (h_random_bytes(b, sizeof(b)) != H_OK) {
    return H_ERR_INTERNAL;
  }
  format_uuid(b, 4, out);
  return H_OK;
}

h_result h_uuid_v7(char out[H_UUID_LEN + 1]) {
  unsigned char b[16];
  if (id_bytes(b + 6, sizeof(b) - 6) != H_OK) {
    return H_ERR_INTERNAL;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  for (int i = 0; i < 6; i++) { /* unix_ts_ms: 48 bits, big-endian */
    b[i] = (unsigned char)(ms >> (40 - 8 * i));
  }
  format_uuid(b, 7, out);
  return H_OK;
}

/* xoshiro128-style generator per thread (xorshift128+), seeded once from the CSPRNG. */
static uint64_t next64(uint64_t s[2]) {
  uint64_t a = s[0];
  const uint64_t b = s[1];
  s[0] = b;
  a ^= a << 23;
  s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
  return s[1] + b;
}

void h_uuid_v4_fast(char out[H_UUID_LEN + 1]) {
  static _Thread_local uint64_t state[2];
  while (state[0] == 0 && state[1] == 0) { /* all zeros would stay zero */
    h_random_bytes_or_abort((unsigned char *)state, sizeof(state));
  }
  uint64_t r[2] = {next64(state), next64(state)};
  unsigned char b[16];
  memcpy(b, r, sizeof(b));
  format_uuid(b, 4, out);
}

bool h_uuid_valid(const char *s) {
  if (s == NULL || strlen(s) != H_UUID_LEN) {
    return false;
  }
  for (int i = 0; i < H_UUID_LEN; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
    } else if (!isxdigit((unsigned char)s[i])) {
      return false;
    }
  }
  return true;
}

/* URL-safe base64 without padding into a new string. */
static char *b64url(const unsigned char *in, size_t n) {
  size_t cap = 4 * ((n + 2) / 3) + 1;
  char *out = h_malloc(cap);
  EVP_EncodeBlock((unsigned char *)out, in, (int)n);
  size_t len = strlen(out);
  while (len > 0 && out[len - 1] == '=') {
    out[--len] = '\0';
  }
  for (size_t i = 0; i < len; i++) {
    if (out[i] == '+') {
      out[i] = '-';
    } else if (out[i] == '/') {
      out[i] = '_';
    }
  }
  return out;
}

/* Decodes URL-safe base64 (padding optional) into out (cap bytes); returns length or -1. */
static int b64url_decode(const char *in, unsigned char *out, size_t cap) {
  size_t len = strlen(in);
  if (len == 0 || len > 4 * cap) {
    return -1;
  }
  char *tmp = h_malloc(len + 4);
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    char c = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    if (c == '=') {
      break;
    }
    tmp[j++] = c;
  }
  size_t pad = (4 - j % 4) % 4;
  for (size_t i = 0; i < pad; i++) {
    tmp[j++] = '=';
  }
  tmp[j] = '\0';
  unsigned char *buf = h_malloc(j);
  int n = EVP_DecodeBlock(buf, (unsigned char *)tmp, (int)j);
  free(tmp);
  if (n < 0) {
    free(buf);
    return -1;
  }
  n -= (int)pad;
  if (n < 0 || (size_t)n > cap) {
    free(buf);
    return -1;
  }
  memcpy(out, buf, (size_t)n);
  free(buf);
  return n;
}

char *h_random_token(size_t n) {
  unsigned char buf[128];
  if (n > sizeof(buf)) {
    h_log_error("h_random_token: %zu bytes asked, at most %zu", n, sizeof(buf));
    abort();
  }
  h_random_bytes_or_abort(buf, n);
  char *token = b64url(buf, n);
  OPENSSL_cleanse(buf, n);
  return token;
}

void h_sha256_hex(const void *data, size_t len, char out[65]) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data, len, digest);
  h_hex_encode(digest, sizeof(digest), out);
}

void h_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[32]) {
  unsigned int outlen = 32;
  HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

bool h_consttime_eq(const void *a, size_t alen, const void *b, size_t blen) {
  if (alen != blen) {
    return false;
  }
  return CRYPTO_memcmp(a, b, alen) == 0;
}

/* Hashes at once in this process: as many as there are cores (at least two). A hash is CPU
 * work, so more at once only queue for the cores, while each holds 32 MiB. */
static sem_t hash_slots;
static int hash_slot_count;
static atomic_int hashing, hashing_peak;
static pthread_once_t hash_slots_once = PTHREAD_ONCE_INIT;

static void hash_slots_init(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  hash_slot_count = cores > 2 ? (int)cores : 2;
  sem_init(&hash_slots, 0, (unsigned int)hash_slot_count);
}

int h_password_hash_slots(void) {
  pthread_once(&hash_slots_once, hash_slots_init);
  return hash_slot_count;
}

int h_password_hash_peak(void) {
  return atomic_load(&hashing_peak);
}

static h_result scrypt_raw(const char *password, const unsigned char *salt, size_t saltlen,
                           unsigned long n, unsigned long r, unsigned long p,
                           unsigned char *out, size_t outlen) {
  pthread_once(&hash_slots_once, hash_slots_init);
  while (sem_wait(&hash_slots) != 0) {
    /* EINTR: wait again */
  }
  int now = atomic_fetch_add(&hashing, 1) + 1;
  int peak = atomic_load(&hashing_peak);
  while (now > peak && !atomic_compare_exchange_weak(&hashing_peak, &peak, now)) {
    /* peak reloaded: try again while now is higher */
  }
  int ok = EVP_PBE_scrypt(password, strlen(password), salt, saltlen, n, r, p, SCRYPT_MAXMEM, out,
                          outlen);
  atomic_fetch_sub(&hashing, 1);
  sem_post(&hash_slots);
  return ok == 1 ? H_OK : H_ERR_INTERNAL;
}

h_result h_password_hash_params(const char *password, unsigned long n, unsigned long r,
                                unsigned long p, char **out) {
  unsigned char salt[SALT_LEN], hash[HASH_LEN];
  *out = NULL;
  if (h_random_bytes(salt, sizeof(salt)) != H_OK ||
      scrypt_raw(password, salt, sizeof(salt), n, r, p, hash, sizeof(hash)) != H_OK) {
    return H_ERR_INTERNAL;
  }
  char *s = b64url(salt, sizeof(salt));
  char *h = b64url(hash, sizeof(hash));
  *out = h_sprintf("scrypt$%lu$%lu$%lu$%s$%s", n, r, p, s, h);
  free(s);
  free(h);
  OPENSSL_cleanse(hash, sizeof(hash));
  return H_OK;
}

h_result h_password_hash(const char *password, char **out) {
  return h_password_hash_params(password, SCRYPT_N, SCRYPT_R, SCRYPT_P, out);
}

bool h_password_needs_rehash(const char *stored) {
  unsigned long n, r, p;
  if (stored == NULL || sscanf(stored, "scrypt$%lu$%lu$%lu$", &n, &r, &p) != 3) {
    return true;
  }
  return n != SCRYPT_N || r != SCRYPT_R || p != SCRYPT_P;
}

bool h_password_verify(const char *password, const char *stored) {
  unsigned long n, r, p;
  char salt_b64[64], hash_b64[128];
  if (password == NULL || stored == NULL ||
      sscanf(stored, "scrypt$%lu$%lu$%lu$%63[^$]$%127s", &n, &r, &p, salt_b64, hash_b64) != 5) {
    return false;
  }
  if (n < 2 || n > (1UL << 20) || (n & (n - 1)) != 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    return false;
  }
  unsigned char salt[64], want[64], got[64];
  int saltlen = b64url_decode(salt_b64, salt, sizeof(salt));
  int wantlen = b64url_decode(hash_b64, want, sizeof(want));
  if (saltlen <= 0 || wantlen <= 0 ||
      scrypt_raw(password, salt, (size_t)saltlen, n, r, p, got, (size_t)wantlen) != H_OK) {
    return false;
  }
  bool ok = h_consttime_eq(got, (size_t)wantlen, want, (size_t)wantlen);
  OPENSSL_cleanse(got, sizeof(got));
  return ok;
}

bool h_base64_decode(const char *s, unsigned char **out, size_t *outlen) {
  size_t n = strlen(s);
  if (n == 0 || n > 65536) {
    return false;
  }
  size_t pad = 0;
  char *padded = h_malloc(n + 4);
  memcpy(padded, s, n);
  while (n % 4 != 0) { /* the unpadded form */
    padded[n++] = '=';
  }
  padded[n] = '\0';
  pad = (padded[n - 1] == '=') + (padded[n - 2] == '=');
  unsigned char *buf = h_malloc(n / 4 * 3 + 1);
  int got = EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)n);
  free(padded);
  if (got < 0 || (size_t)got < pad) {
    free(buf);
    return false;
  }
  *out = buf;
  *outlen = (size_t)got - pad;
  return true;
}

bool h_ecdsa_sha256_verify(const char *pub_b64, const void *data, size_t len,
                           const char *sig_b64) {
  unsigned char *der = NULL, *sig = NULL;
  size_t derlen = 0, siglen = 0;
  bool ok = false;
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *ctx = NULL;
  if (pub_b64 == NULL || sig_b64 == NULL || !h_base64_decode(pub_b64, &der, &derlen) ||
      !h_base64_decode(sig_b64, &sig, &siglen)) {
    goto out;
  }
  const unsigned char *p = der;
  key = d2i_PUBKEY(NULL, &p, (long)derlen);
  if (key == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_EC) {
    goto out;
  }
  ctx = EVP_MD_CTX_new();
  ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
       EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
out:
  ERR_clear_error();
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  free(der);
  free(sig);
  return ok;
}

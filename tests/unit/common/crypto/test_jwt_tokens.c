/* Unit tests: access tokens, including the attacks a verifier must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/jwt_cache.h"
#include "crypto/jwt_tokens.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define OLD_SECRET "fedcba9876543210fedcba9876543210"
#define SUB "6f1c1f3e-8a4b-4c55-9d2e-0a1b2c3d4e5f"
#define NOW 1800000000L

static struct h_jwt_config hs(void) {
  struct h_jwt_config c = {
    .rs256 = 0,
    .current = {"k2", (const unsigned char *)SECRET, 32, (const unsigned char *)SECRET, 32},
    .previous = {"k1", NULL, 0, (const unsigned char *)OLD_SECRET, 32},
    .issuer = "herald",
    .audience = "herald-api",
  };
  return c;
}

static void test_roundtrip(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  char *t = NULL;
  assert_int_equal(h_jwt_issue(&c, SUB, "admin", 900, NOW, &t), H_OK);
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_verify(&c, t, NOW + 10, &cl), H_OK);
  assert_string_equal(cl.sub, SUB);
  assert_string_equal(cl.role, "admin");
  assert_int_equal(cl.exp, NOW + 900);
  assert_int_equal(strlen(cl.jti), 36);
  free(t);
}

static void test_expired(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  char *t = NULL;
  assert_int_equal(h_jwt_issue(&c, SUB, "user", 900, NOW, &t), H_OK);
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_verify(&c, t, NOW + 900, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify(&c, t, NOW - 3600, &cl), H_ERR_UNAUTHORIZED); /* iat in future */
  free(t);
}

static void test_tampered(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  char *t = NULL;
  assert_int_equal(h_jwt_issue(&c, SUB, "user", 900, NOW, &t), H_OK);
  char *dot = strchr(t, '.');
  dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* flip a payload character */
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  assert_int_equal(h_jwt_verify(&c, "not.a.jwt", NOW, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify(&c, "", NOW, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify(&c, NULL, NOW, &cl), H_ERR_UNAUTHORIZED);
}

static void test_alg_none_refused(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  /* {"alg":"none","typ":"JWT"} . {"iss":"herald","aud":"herald-api","sub":SUB,"role":"admin",
   * "iat":1800000000,"exp":1900000000} . (no signature) */
  const char *none =
      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
      "eyJpc3MiOiJoZXJhbGQiLCJhdWQiOiJoZXJhbGQtYXBpIiwic3ViIjoiNmYxYzFmM2UtOGE0Yi00YzU1LTlkMmUtMGEx"
      "YjJjM2Q0ZTVmIiwicm9sZSI6ImFkbWluIiwiaWF0IjoxODAwMDAwMDAwLCJleHAiOjE5MDAwMDAwMDB9.";
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_verify(&c, none, NOW, &cl), H_ERR_UNAUTHORIZED);
}

static void test_wrong_issuer_audience_kid(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  struct h_jwt_config other = hs();
  other.issuer = "someone-else";
  char *t = NULL;
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_issue(&other, SUB, "user", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  other = hs();
  other.audience = "another-api";
  assert_int_equal(h_jwt_issue(&other, SUB, "user", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  other = hs();
  other.current.kid = "unknown";
  assert_int_equal(h_jwt_issue(&other, SUB, "user", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  assert_int_equal(h_jwt_issue(&c, "not-a-uuid", "user", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  assert_int_equal(h_jwt_issue(&c, SUB, "root", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
}

static void test_rotation_previous_key(void **state) {
  (void)state;
  struct h_jwt_config old = hs();
  old.current = (struct h_jwt_key){"k1", (const unsigned char *)OLD_SECRET, 32,
                                   (const unsigned char *)OLD_SECRET, 32};
  char *t = NULL;
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_issue(&old, SUB, "user", 900, NOW, &t), H_OK);
  struct h_jwt_config c = hs();
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_OK);
  c.previous.kid = NULL; /* previous key retired */
  assert_int_equal(h_jwt_verify(&c, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
}

/* Generates an RSA key pair as PEM strings the caller frees. */
static void rsa_pair(char **priv, char **pub) {
  EVP_PKEY *key = EVP_RSA_gen(2048);
  assert_non_null(key);
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  *priv = h_strndup(data, (size_t)n);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, key);
  n = BIO_get_mem_data(b, &data);
  *pub = h_strndup(data, (size_t)n);
  BIO_free(b);
  EVP_PKEY_free(key);
}

static void test_rs256_and_confusion(void **state) {
  (void)state;
  char *priv, *pub;
  rsa_pair(&priv, &pub);
  struct h_jwt_config rs = {
    .rs256 = 1,
    .current = {"r1", (const unsigned char *)priv, strlen(priv), (const unsigned char *)pub,
                strlen(pub)},
    .issuer = "herald",
    .audience = "herald-api",
  };
  char *t = NULL;
  struct h_jwt_claims cl;
  assert_int_equal(h_jwt_issue(&rs, SUB, "user", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&rs, t, NOW, &cl), H_OK);
  free(t);
  /* HS256 signed with the public key as the secret must not pass an RS256 verifier. */
  struct h_jwt_config forged = hs();
  forged.current = (struct h_jwt_key){"r1", (const unsigned char *)pub, strlen(pub),
                                      (const unsigned char *)pub, strlen(pub)};
  assert_int_equal(h_jwt_issue(&forged, SUB, "admin", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_verify(&rs, t, NOW, &cl), H_ERR_UNAUTHORIZED);
  free(t);
  free(priv);
  free(pub);
}

/* The cache answers like h_jwt_verify: hits only for the very token, never past exp,
 * never for a token that did not verify. */
static void test_cache(void **state) {
  (void)state;
  struct h_jwt_config c = hs();
  struct h_jwt_cache *cache = h_jwt_cache_new(4);
  char *t = NULL, *u = NULL;
  assert_int_equal(h_jwt_issue(&c, SUB, "admin", 900, NOW, &t), H_OK);
  assert_int_equal(h_jwt_issue(&c, SUB, "user", 300, NOW, &u), H_OK);
  struct h_jwt_claims cl;
  unsigned long long hits, misses;
  for (int i = 0; i < 3; i++) {
    memset(&cl, 0, sizeof(cl));
    assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 10, &cl), H_OK);
    assert_string_equal(cl.sub, SUB);
    assert_string_equal(cl.role, "admin");
    assert_int_equal(cl.exp, NOW + 900);
  }
  h_jwt_cache_stats(cache, &hits, &misses);
  assert_int_equal(hits, 2);
  assert_int_equal(misses, 1);
  /* another token is its own entry with its own claims */
  assert_int_equal(h_jwt_verify_cached(cache, &c, u, NOW + 10, &cl), H_OK);
  assert_string_equal(cl.role, "user");
  assert_int_equal(h_jwt_verify_cached(cache, &c, u, NOW + 10, &cl), H_OK);
  assert_string_equal(cl.role, "user");
  /* expired: refused although cached */
  assert_int_equal(h_jwt_verify_cached(cache, &c, u, NOW + 300, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 900, &cl), H_ERR_UNAUTHORIZED);
  /* a cached token with one byte changed (same length, same slot or not) is verified, refused */
  assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 10, &cl), H_OK);
  char *dot = strchr(t, '.');
  dot[3] = dot[3] == 'A' ? 'B' : 'A';
  assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 10, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 10, &cl), H_ERR_UNAUTHORIZED);
  size_t len = strlen(t);
  t[len - 1] = t[len - 1] == 'A' ? 'B' : 'A'; /* the signature's last character */
  assert_int_equal(h_jwt_verify_cached(cache, &c, t, NOW + 10, &cl), H_ERR_UNAUTHORIZED);
  assert_int_equal(h_jwt_verify_cached(cache, &c, NULL, NOW, &cl), H_ERR_UNAUTHORIZED);
  /* no cache: plain verification */
  assert_int_equal(h_jwt_verify_cached(NULL, &c, u, NOW + 10, &cl), H_OK);
  h_jwt_cache_stats(NULL, &hits, &misses);
  assert_int_equal(hits + misses, 0);
  assert_null(h_jwt_cache_new(0));
  h_jwt_cache_free(cache);
  free(t);
  free(u);
}

int main(void) {
  h_alloc_install();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip),
    cmocka_unit_test(test_expired),
    cmocka_unit_test(test_tampered),
    cmocka_unit_test(test_alg_none_refused),
    cmocka_unit_test(test_wrong_issuer_audience_kid),
    cmocka_unit_test(test_rotation_previous_key),
    cmocka_unit_test(test_rs256_and_confusion),
    cmocka_unit_test(test_cache),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

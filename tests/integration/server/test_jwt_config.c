/* Integration: the token algorithm and key rotation chosen by configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "crypto/jwt_tokens.h"

#define OLD_SECRET "the-retired-signing-key-0123456789ab"
#define NEW_SECRET "the-current-signing-key-0123456789ab"

static void write_pems(char *priv_path, char *pub_path) {
  EVP_PKEY *key = EVP_RSA_gen(2048);
  assert_non_null(key);
  FILE *f = fdopen(mkstemp(priv_path), "w");
  PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  f = fdopen(mkstemp(pub_path), "w");
  PEM_write_PUBKEY(f, key);
  fclose(f);
  EVP_PKEY_free(key);
}

/* The decoded JWT header of token (caller decrefs). */
static json_t *jwt_header(const char *token) {
  char b64[256] = {0};
  size_t n = strcspn(token, ".");
  for (size_t i = 0; i < n && i < 200; i++) {
    b64[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
  }
  while (n % 4) {
    b64[n++] = '=';
  }
  unsigned char raw[256] = {0};
  EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
  return json_loads((char *)raw, JSON_DISABLE_EOF_CHECK, NULL);
}

static void test_rs256(void **state) {
  (void)state;
  char priv[] = "/tmp/herald-rs-priv-XXXXXX", pub[] = "/tmp/herald-rs-pub-XXXXXX";
  write_pems(priv, pub);
  setenv("HERALD_JWT_ALG", "RS256", 1);
  setenv("HERALD_JWT_KEY_ID", "rsa-2026", 1);
  setenv("HERALD_JWT_PRIVATE_KEY_FILE", priv, 1);
  setenv("HERALD_JWT_PUBLIC_KEY_FILE", pub, 1);
  struct th_server srv;
  th_start(&srv);
  char id[37];
  char *email = th_unique_email("rs");
  char *token = th_register(&srv, email, id, NULL);
  json_t *h = jwt_header(token);
  assert_string_equal(th_str(h, "alg"), "RS256");
  assert_string_equal(th_str(h, "kid"), "rsa-2026");
  json_decref(h);
  struct th_response r;
  const char *auth[] = {th_bearer(token), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", auth, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);

  /* An HS256 token keyed with the public key (algorithm confusion) is refused. */
  FILE *f = fopen(pub, "r");
  char pem[4096] = {0};
  size_t len = fread(pem, 1, sizeof(pem) - 1, f);
  fclose(f);
  struct h_jwt_config forged = {
    .rs256 = 0,
    .current = {"rsa-2026", (unsigned char *)pem, len, (unsigned char *)pem, len},
    .issuer = srv.cfg.jwt_issuer,
    .audience = srv.cfg.jwt_audience,
  };
  char *bad = NULL;
  assert_int_equal(h_jwt_issue(&forged, id, "admin", 900, (long)time(NULL), &bad), H_OK);
  const char *hb[] = {th_bearer(bad), NULL};
  th_request(&srv, "GET", "/api/v1/users/me", hb, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  th_stop(&srv);
  free(bad);
  free(token);
  free(email);
  unlink(priv);
  unlink(pub);
  unsetenv("HERALD_JWT_ALG");
  unsetenv("HERALD_JWT_PRIVATE_KEY_FILE");
  unsetenv("HERALD_JWT_PUBLIC_KEY_FILE");
}

static void test_rotation(void **state) {
  (void)state;
  setenv("HERALD_JWT_SECRET", OLD_SECRET, 1);
  setenv("HERALD_JWT_KEY_ID", "k-old", 1);
  struct th_server before;
  th_start(&before);
  char *email = th_unique_email("rotate");
  char *old_token = th_register(&before, email, NULL, NULL);
  th_stop(&before);

  /* The next deployment signs with a new key and still accepts the old one. */
  setenv("HERALD_JWT_SECRET", NEW_SECRET, 1);
  setenv("HERALD_JWT_KEY_ID", "k-new", 1);
  setenv("HERALD_JWT_PREVIOUS_SECRET", OLD_SECRET, 1);
  setenv("HERALD_JWT_PREVIOUS_KEY_ID", "k-old", 1);
  struct th_server after;
  th_start(&after);
  struct th_response r;
  const char *h[] = {th_bearer(old_token), NULL};
  th_request(&after, "GET", "/api/v1/users/me", h, NULL, &r);
  assert_int_equal(r.status, 200);
  th_response_free(&r);
  th_stop(&after);

  /* Once the previous key is retired, its tokens stop working. */
  unsetenv("HERALD_JWT_PREVIOUS_SECRET");
  unsetenv("HERALD_JWT_PREVIOUS_KEY_ID");
  struct th_server retired;
  th_start(&retired);
  th_request(&retired, "GET", "/api/v1/users/me", h, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  th_stop(&retired);
  free(old_token);
  free(email);
}

/* Secrets longer than 64 bytes are used whole: two secrets that differ only after byte
 * 64 sign different tokens. */
static void test_long_secret(void **state) {
  (void)state;
  const char *prefix = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char *first = h_sprintf("%s-first-tail", prefix);
  char *second = h_sprintf("%s-other-tail", prefix);
  unsetenv("HERALD_JWT_PREVIOUS_SECRET");
  unsetenv("HERALD_JWT_PREVIOUS_KEY_ID");
  setenv("HERALD_JWT_KEY_ID", "k-long", 1);
  setenv("HERALD_JWT_SECRET", first, 1);
  struct th_server a;
  th_start(&a);
  char *email = th_unique_email("longkey");
  char *token = th_register(&a, email, NULL, NULL);
  th_stop(&a);
  setenv("HERALD_JWT_SECRET", second, 1);
  struct th_server b;
  th_start(&b);
  struct th_response r;
  const char *h[] = {th_bearer(token), NULL};
  th_request(&b, "GET", "/api/v1/users/me", h, NULL, &r);
  th_assert_error(&r, 401, "invalid_token");
  th_response_free(&r);
  th_stop(&b);
  /* The full first secret verifies it. */
  struct h_jwt_config cfg = {.issuer = "herald", .audience = "herald-api"};
  cfg.current.kid = "k-long";
  cfg.current.verify = (const unsigned char *)first;
  cfg.current.verify_len = strlen(first);
  struct h_jwt_claims claims;
  assert_int_equal(h_jwt_verify(&cfg, token, (long)time(NULL), &claims), H_OK);
  cfg.current.verify_len = 64;
  assert_int_not_equal(h_jwt_verify(&cfg, token, (long)time(NULL), &claims), H_OK);
  unsetenv("HERALD_JWT_SECRET");
  free(token);
  free(email);
  free(first);
  free(second);
}

int main(void) {
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rs256),
    cmocka_unit_test(test_rotation),
    cmocka_unit_test(test_long_secret),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

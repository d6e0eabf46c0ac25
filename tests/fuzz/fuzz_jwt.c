/* fuzz_jwt.c - a bearer token from the Authorization header, verified as the API does
 * (crypto/jwt_tokens.c, HS256 with a current and a previous key). */
#include "crypto/jwt_tokens.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const unsigned char current[] = "fuzz-current-secret-0123456789abcdef";
  static const unsigned char previous[] = "fuzz-previous-secret-0123456789abcde";
  const struct h_jwt_config cfg = {
    .rs256 = 0,
    .current = {"k2", current, sizeof(current) - 1, current, sizeof(current) - 1},
    .previous = {"k1", NULL, 0, previous, sizeof(previous) - 1},
    .issuer = "herald",
    .audience = "herald-api",
  };
  char *token = fuzz_strndup(data, size);
  struct h_jwt_claims claims;
  (void)h_jwt_verify(&cfg, token, 1767225600, &claims);
  free(token);
  return 0;
}

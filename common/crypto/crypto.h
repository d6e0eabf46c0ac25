/* crypto.h - OpenSSL-backed randomness, UUIDs, hashing, HMAC, scrypt passwords. */
#ifndef HERALD_CRYPTO_H
#define HERALD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

#define H_UUID_LEN 36

/* Fills buf with n cryptographically secure bytes. H_ERR_INTERNAL if the CSPRNG fails (buf is
 * then zeroed: never use it). */
h_result h_random_bytes(unsigned char *buf, size_t n);

/* Like h_random_bytes for callers that cannot report a failure: logs and aborts the process
 * when the CSPRNG fails (nothing random can be made without it). */
void h_random_bytes_or_abort(unsigned char *buf, size_t n);

/* The CSPRNG behind h_random_bytes: OpenSSL's RAND_bytes (1 on success), or fn when not NULL.
 * A seam for tests that inject failures; set it before any thread uses randomness. */
typedef int (*h_random_source)(unsigned char *buf, int n);
void h_random_set_source(h_random_source fn);

/* Writes a random (version 4) UUID plus NUL into out[37]. */
h_result h_uuid_v4(char out[H_UUID_LEN + 1]);

/* Writes a time-ordered (version 7, RFC 9562) UUID plus NUL into out[37]: the Unix time in
 * milliseconds, then 74 random bits from the CSPRNG (as unguessable within a millisecond as
 * 74 bits are). For the ids of rows written at a high rate: a B-tree on them grows at its
 * right edge (PostgreSQL's fast path for the rightmost leaf) instead of touching a random
 * leaf per insert. The id tells when it was made, as the row's created_at does. */
h_result h_uuid_v7(char out[H_UUID_LEN + 1]);

/* A version 4 UUID from a per-thread pseudo-random generator (seeded from the CSPRNG; aborts
 * when that fails, as h_random_bytes_or_abort): unique, not unguessable. For request ids, whose cost is on every request; never for
 * anything that must be unpredictable. */
void h_uuid_v4_fast(char out[H_UUID_LEN + 1]);

/* True when s is a canonical lowercase/uppercase 8-4-4-4-12 hex UUID. */
bool h_uuid_valid(const char *s);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void h_hex_encode(const unsigned char *in, size_t n, char *out);

/* n (at most 128) random bytes as URL-safe base64 without padding, in a new string the caller
 * frees; never NULL: aborts when the CSPRNG fails (as h_random_bytes_or_abort) or n is too
 * large, so no caller can ever build a secret from nothing. */
char *h_random_token(size_t n);

/* SHA-256 of data as 64 lowercase hex chars + NUL into out[65]. */
void h_sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA256(key, data) into out[32]. */
void h_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   unsigned char out[32]);

/* Decodes standard base64 (padding optional, no whitespace) into a new buffer (*out, caller
 * frees) of *outlen bytes; false (nothing allocated) when s is not base64. */
bool h_base64_decode(const char *s, unsigned char **out, size_t *outlen);

/* True when sig_b64 (base64 of a DER ECDSA signature) signs data with SHA-256 under the
 * public key pub_b64 (base64 of a DER SubjectPublicKeyInfo, an EC key). False for any
 * malformed input. */
bool h_ecdsa_sha256_verify(const char *pub_b64, const void *data, size_t len,
                           const char *sig_b64);

/* Constant-time equality of two buffers of the same length; false if lengths differ. */
bool h_consttime_eq(const void *a, size_t alen, const void *b, size_t blen);

/* scrypt password hash in a new string the caller frees:
 *   "scrypt$N$r$p$<salt b64>$<hash b64>". H_ERR_INTERNAL when OpenSSL fails. */
h_result h_password_hash(const char *password, char **out);

/* The same with explicit scrypt parameters (for tests of older hashes). */
h_result h_password_hash_params(const char *password, unsigned long n, unsigned long r,
                                unsigned long p, char **out);

/* True when stored was made with other parameters than h_password_hash uses now (or is
 * not an scrypt hash): after a successful verify it should be replaced. */
bool h_password_needs_rehash(const char *stored);

/* Verifies password against a stored hash in constant time; false on any mismatch
 * or malformed hash. */
bool h_password_verify(const char *password, const char *stored);

/* How many password hashes (and verifications) run at once in this process: the online cores,
 * at least two; more callers wait. Each holds 32 MiB while it runs, so this also bounds what
 * a burst of sign-ins can make the process allocate. */
int h_password_hash_slots(void);
/* The most that ran at once so far (for tests). */
int h_password_hash_peak(void);

#endif

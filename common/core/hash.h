/* hash.h - the keys and hashes of the process's fixed tables (token epochs, verified tokens,
 * user profiles, rate counters, statements): FNV-1a over a NUL-terminated string, and a
 * UUID in lowercase (PostgreSQL prints them so; a client may not). */
#ifndef HERALD_HASH_H
#define HERALD_HASH_H

#include <stddef.h>
#include <stdint.h>

#define H_FNV1A_OFFSET 1469598103934665603ULL
#define H_FNV1A_PRIME 1099511628211ULL

/* h continued over s (start from H_FNV1A_OFFSET). Pure. */
static inline uint64_t h_fnv1a_more(uint64_t h, const char *s) {
  for (; *s != '\0'; s++) {
    h = (h ^ (unsigned char)*s) * H_FNV1A_PRIME;
  }
  return h;
}

static inline uint64_t h_fnv1a(const char *s) {
  return h_fnv1a_more(H_FNV1A_OFFSET, s);
}

/* h continued over the n bytes at s. Pure. */
static inline uint64_t h_fnv1a_n(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h = (h ^ (unsigned char)s[i]) * H_FNV1A_PRIME;
  }
  return h;
}

/* The first 36 characters of uuid in lowercase into out. Pure. */
static inline void h_uuid_lower(const char *uuid, char out[37]) {
  int i = 0;
  for (; i < 36 && uuid[i] != '\0'; i++) {
    char c = uuid[i];
    out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out[i] = '\0';
}

#endif

/* fuzz_input.h - helpers the fuzz targets share to cut libFuzzer's bytes into C strings.
 *
 * An input is split into parts at each '\n' (the seed files are readable text, one part a
 * line); each part becomes a NUL-terminated copy, so the code under test sees what it sees
 * in production: strings that end at their first NUL. */
#ifndef HERALD_FUZZ_INPUT_H
#define HERALD_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of size bytes of data (caller frees). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) {
    abort();
  }
  if (size > 0) {
    memcpy(s, data, size);
  }
  s[size] = '\0';
  return s;
}

/* Splits data at '\n' into at most n parts (the last part keeps the rest, newlines included);
 * missing parts are "". Each parts[i] is a new string the caller frees with fuzz_free_parts. */
static inline void fuzz_split(const uint8_t *data, size_t size, char **parts, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    size_t end = pos;
    if (i + 1 < n) {
      while (end < size && data[end] != '\n') {
        end++;
      }
    } else {
      end = size;
    }
    parts[i] = fuzz_strndup(data + pos, end - pos);
    pos = end < size ? end + 1 : size;
  }
}

static inline void fuzz_free_parts(char **parts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(parts[i]);
  }
}

#endif

/* text.h - bounded copies of C strings. */
#ifndef HERALD_TEXT_H
#define HERALD_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Copies src into dst (size bytes; 0: nothing written), cut to size - 1 bytes, always NUL-terminated;
 * false when it was cut. What snprintf(dst, size, "%s", src) does without reading a format:
 * about 600 instructions a call on the POST path against a few dozen (bench/README.md). */
static inline bool h_copy(char *dst, size_t size, const char *src) {
  if (size == 0) {
    return false;
  }
  size_t n = strlen(src);
  bool whole = n < size;
  n = whole ? n : size - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
  return whole;
}

#endif

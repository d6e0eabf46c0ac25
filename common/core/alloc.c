/* alloc.c - allocators that abort on failure. */
#include "core/alloc.h"

#include <jansson.h>
#include <orcania.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n) {
  fprintf(stderr, "{\"level\":\"error\",\"msg\":\"out of memory allocating %zu bytes\"}\n", n);
  abort();
}

void *h_malloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL) {
    out_of_memory(n);
  }
  return p;
}

void *h_calloc(size_t count, size_t n) {
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (p == NULL) {
    out_of_memory(count * n);
  }
  return p;
}

void *h_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL) {
    out_of_memory(n);
  }
  return q;
}

char *h_strdup(const char *s) {
  return s == NULL ? NULL : h_strndup(s, strlen(s));
}

char *h_strndup(const char *s, size_t n) {
  if (s == NULL) {
    return NULL;
  }
  size_t len = strnlen(s, n);
  char *d = h_malloc(len + 1);
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *h_sprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    return h_strdup("");
  }
  char *out = h_malloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(out, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return out;
}

void h_alloc_install(void) {
  json_set_alloc_funcs(h_malloc, free);
  o_set_alloc_funcs(h_malloc, h_realloc, free);
}

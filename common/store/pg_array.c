/* pg_array.c - PostgreSQL array literals (pg_array.h). */
#include "store/pg_array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Room for n more bytes plus the closing "}" and NUL. */
static void reserve(struct h_pg_array *a, size_t n) {
  if (a->buf == NULL) {
    a->cap = 256;
    a->buf = h_malloc(a->cap);
    a->buf[0] = '{';
    a->len = 1;
  }
  if (a->len + n + 2 > a->cap) {
    while (a->len + n + 2 > a->cap) {
      a->cap *= 2;
    }
    a->buf = h_realloc(a->buf, a->cap);
  }
}

/* The separator before a new element. */
static void next(struct h_pg_array *a, size_t n) {
  reserve(a, n + 1);
  if (a->n++ > 0) {
    a->buf[a->len++] = ',';
  }
}

void h_pg_array_add(struct h_pg_array *a, const char *s) {
  if (s == NULL) {
    next(a, 4);
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
    return;
  }
  size_t n = strlen(s);
  next(a, 2 * n + 2); /* every byte escaped at worst, and the quotes */
  a->buf[a->len++] = '"';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"' || s[i] == '\\') {
      a->buf[a->len++] = '\\';
    }
    a->buf[a->len++] = s[i];
  }
  a->buf[a->len++] = '"';
}

void h_pg_array_add_bool(struct h_pg_array *a, int value) {
  next(a, 1);
  a->buf[a->len++] = value ? 't' : 'f';
}

void h_pg_array_add_long(struct h_pg_array *a, long value) {
  char num[24];
  int n = snprintf(num, sizeof(num), "%ld", value);
  next(a, (size_t)n);
  memcpy(a->buf + a->len, num, (size_t)n);
  a->len += (size_t)n;
}

const char *h_pg_array_text(struct h_pg_array *a) {
  reserve(a, 0);
  a->buf[a->len] = '}';
  a->buf[a->len + 1] = '\0';
  return a->buf;
}

void h_pg_array_free(struct h_pg_array *a) {
  free(a->buf);
  *a = (struct h_pg_array){0};
}

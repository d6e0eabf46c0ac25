/* pg_array.c - PostgreSQL arrays, text literals and binary (pg_array.h). */
#include "store/pg_array.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* The binary header: ndim, flags, element type, then one dimension's size and lower bound. */
#define BIN_HEADER 20

/* The element types' OIDs (pg_type.dat). */
static const uint32_t elem_oid[] = {[H_PG_TEXT] = 25, [H_PG_UUID] = 2950, [H_PG_JSONB] = 3802,
                                    [H_PG_BOOL] = 16, [H_PG_INT4] = 23};

/* Room for n more bytes plus the closing "}" and NUL. */
static void reserve(struct h_pg_array *a, size_t n) {
  if (a->buf == NULL) {
    a->cap = 256;
    a->buf = h_malloc(a->cap);
    a->len = a->elem == H_PG_LITERAL ? 1 : BIN_HEADER;
    a->buf[0] = '{';
  }
  if (a->len + n + 2 > a->cap) {
    while (a->len + n + 2 > a->cap) {
      a->cap *= 2;
    }
    a->buf = h_realloc(a->buf, a->cap);
  }
}

static void put_u32(char *p, uint32_t v) {
  p[0] = (char)(v >> 24);
  p[1] = (char)(v >> 16);
  p[2] = (char)(v >> 8);
  p[3] = (char)v;
}

/* A binary element: its length (-1: NULL) and room for it. */
static char *next_binary(struct h_pg_array *a, int32_t length) {
  reserve(a, 4 + (length > 0 ? (size_t)length : 0));
  a->n++;
  put_u32(a->buf + a->len, (uint32_t)length);
  a->len += 4;
  char *at = a->buf + a->len;
  a->len += length > 0 ? (size_t)length : 0;
  return at;
}

/* The separator before a new literal element. */
static void next(struct h_pg_array *a, size_t n) {
  reserve(a, n + 1);
  if (a->n++ > 0) {
    a->buf[a->len++] = ',';
  }
}

void h_pg_array_binary(struct h_pg_array *a, enum h_pg_elem elem) {
  h_pg_array_free(a);
  a->elem = elem;
}

static int hex(char c) {
  return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The 16 bytes of a UUID in its canonical text form (hyphens at 8, 13, 18 and 23). */
static bool uuid_bytes(const char *s, char out[16]) {
  if (strlen(s) != 36) {
    return false;
  }
  int k = 0;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
      continue;
    }
    int hi = hex(s[i]), lo = hex(s[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[k++] = (char)(hi << 4 | lo);
    i++;
  }
  return true;
}

static void add_binary(struct h_pg_array *a, const char *s) {
  if (s == NULL) {
    next_binary(a, -1);
    return;
  }
  if (a->elem == H_PG_UUID) {
    char b[16];
    if (!uuid_bytes(s, b)) {
      a->bad = true;
      next_binary(a, -1);
      return;
    }
    memcpy(next_binary(a, 16), b, 16);
    return;
  }
  size_t n = strlen(s);
  bool jsonb = a->elem == H_PG_JSONB;
  char *at = next_binary(a, (int32_t)(n + jsonb));
  if (jsonb) {
    *at++ = 1; /* jsonb's binary form: version 1, then the text */
  }
  memcpy(at, s, n);
}

void h_pg_array_add(struct h_pg_array *a, const char *s) {
  if (a->elem != H_PG_LITERAL) {
    add_binary(a, s);
    return;
  }
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
  if (a->elem != H_PG_LITERAL) {
    *next_binary(a, 1) = value ? 1 : 0;
    return;
  }
  next(a, 1);
  a->buf[a->len++] = value ? 't' : 'f';
}

void h_pg_array_add_long(struct h_pg_array *a, long value) {
  if (a->elem != H_PG_LITERAL) {
    put_u32(next_binary(a, 4), (uint32_t)(int32_t)value);
    return;
  }
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

const char *h_pg_array_param(struct h_pg_array *a, int *length, int *format) {
  if (a->elem == H_PG_LITERAL) {
    *format = 0;
    *length = 0;
    return h_pg_array_text(a);
  }
  reserve(a, 0);
  /* one dimension of n elements from 1, or none when empty (array_recv takes ndim 0) */
  put_u32(a->buf, a->n > 0 ? 1 : 0);
  put_u32(a->buf + 4, 0); /* flags: array_recv works out the NULLs itself */
  put_u32(a->buf + 8, elem_oid[a->elem]);
  put_u32(a->buf + 12, (uint32_t)a->n);
  put_u32(a->buf + 16, 1);
  *format = 1;
  *length = a->n > 0 ? (int)a->len : 12;
  return a->buf;
}

void h_pg_array_free(struct h_pg_array *a) {
  enum h_pg_elem elem = a->elem;
  free(a->buf);
  *a = (struct h_pg_array){.elem = elem};
}

/* pg_array.c - PostgreSQL arrays, as literals or in the binary format (pg_array.h). */
#include "store/pg_array.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Binary header of a one-dimensional array: ndim, has-nulls flag, element type, then the
 * dimension's length and lower bound; all big-endian int32. An empty array has ndim 0 and
 * stops after the element type. */
enum { BIN_HEADER = 20, BIN_EMPTY_HEADER = 12 };

/* Room for n more bytes plus the closing "}" and NUL. */
static void reserve(struct h_pg_array *a, size_t n) {
  if (a->buf == NULL) {
    a->cap = 256;
    a->buf = h_malloc(a->cap);
    if (a->oid == 0) {
      a->buf[0] = '{';
      a->len = 1;
    } else {
      a->len = BIN_HEADER;
    }
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

static void put_u32(char *p, uint32_t v) {
  p[0] = (char)(v >> 24);
  p[1] = (char)(v >> 16);
  p[2] = (char)(v >> 8);
  p[3] = (char)v;
}

static void put_u64(char *p, uint64_t v) {
  put_u32(p, (uint32_t)(v >> 32));
  put_u32(p + 4, (uint32_t)v);
}

/* A binary element of n bytes (or an SQL NULL), its length written; returns where its bytes
 * go (NULL for a NULL). */
static char *bin_element(struct h_pg_array *a, bool null, size_t n) {
  reserve(a, 4 + n);
  a->n++;
  if (null) {
    put_u32(a->buf + a->len, UINT32_MAX); /* length -1 */
    a->len += 4;
    a->nulls = true;
    return NULL;
  }
  put_u32(a->buf + a->len, (uint32_t)n);
  a->len += 4 + n;
  return a->buf + a->len - n;
}

static int hex_value(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The 16 bytes of the canonical text form of a uuid (8-4-4-4-12 hex digits); false when s
 * is not one. PostgreSQL's uuid_in also takes braces and missing hyphens, which nothing of
 * ours sends. */
static bool uuid_bytes(const char *s, unsigned char out[16]) {
  int b = 0;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
      continue;
    }
    int hi = hex_value(s[i]), lo = hi >= 0 ? hex_value(s[i + 1]) : -1;
    if (lo < 0) {
      return false;
    }
    out[b++] = (unsigned char)(hi << 4 | lo);
    i++;
  }
  return s[36] == '\0';
}

static void bin_add(struct h_pg_array *a, const char *s) {
  if (s == NULL) {
    bin_element(a, true, 0);
    return;
  }
  if (a->oid == H_PG_OID_UUID) {
    unsigned char u[16];
    if (!uuid_bytes(s, u)) {
      a->invalid = true;
      memset(u, 0, sizeof(u));
    }
    memcpy(bin_element(a, false, sizeof(u)), u, sizeof(u));
    return;
  }
  size_t n = strlen(s);
  if (a->oid == H_PG_OID_JSONB) {
    char *p = bin_element(a, false, n + 1);
    p[0] = 1; /* jsonb's binary format: version 1, then the JSON text */
    memcpy(p + 1, s, n);
    return;
  }
  if (a->oid != H_PG_OID_TEXT) {
    a->invalid = true; /* a string for a bool or int4 array */
  }
  memcpy(bin_element(a, false, n), s, n);
}

void h_pg_array_add(struct h_pg_array *a, const char *s) {
  if (a->oid != 0) {
    bin_add(a, s);
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
  if (a->oid != 0) {
    a->invalid |= a->oid != H_PG_OID_BOOL;
    *bin_element(a, false, 1) = value ? 1 : 0;
    return;
  }
  next(a, 1);
  a->buf[a->len++] = value ? 't' : 'f';
}

/* Appends the n characters of num to a text array. */
static void add_number(struct h_pg_array *a, const char *num, int n) {
  next(a, (size_t)n);
  memcpy(a->buf + a->len, num, (size_t)n);
  a->len += (size_t)n;
}

void h_pg_array_add_long(struct h_pg_array *a, long long value) {
  if (a->oid == H_PG_OID_INT8) {
    put_u64(bin_element(a, false, 8), (uint64_t)value);
    return;
  }
  if (a->oid != 0) {
    a->invalid |= a->oid != H_PG_OID_INT4 || value < INT32_MIN || value > INT32_MAX;
    put_u32(bin_element(a, false, 4), (uint32_t)(int32_t)value);
    return;
  }
  char num[24];
  add_number(a, num, snprintf(num, sizeof(num), "%lld", value));
}

void h_pg_array_add_double(struct h_pg_array *a, double value) {
  if (a->oid != 0) {
    a->invalid |= a->oid != H_PG_OID_FLOAT8;
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits)); /* IEEE 754, sent big-endian as float8send does */
    put_u64(bin_element(a, false, 8), bits);
    return;
  }
  char num[32];
  add_number(a, num, snprintf(num, sizeof(num), "%.17g", value));
}

const char *h_pg_array_text(struct h_pg_array *a) {
  reserve(a, 0);
  a->buf[a->len] = '}';
  a->buf[a->len + 1] = '\0';
  return a->buf;
}

const char *h_pg_array_param(struct h_pg_array *a, int *len, int *format) {
  if (a->oid == 0) {
    const char *text = h_pg_array_text(a);
    *len = (int)(a->len + 1);
    *format = 0;
    return text;
  }
  *format = 1;
  if (a->invalid) {
    *len = 0;
    return NULL;
  }
  reserve(a, 0);
  put_u32(a->buf, a->n > 0 ? 1 : 0);
  put_u32(a->buf + 4, a->nulls ? 1 : 0);
  put_u32(a->buf + 8, a->oid);
  if (a->n == 0) {
    *len = BIN_EMPTY_HEADER;
    return a->buf;
  }
  put_u32(a->buf + 12, (uint32_t)a->n);
  put_u32(a->buf + 16, 1); /* lower bound */
  *len = (int)a->len;
  return a->buf;
}

bool h_pg_array_params(struct h_pg_array *a, int n, const char **params, int *lengths,
                       int *formats) {
  bool valid = true;
  for (int i = 0; i < n; i++) {
    params[i] = h_pg_array_param(&a[i], &lengths[i], &formats[i]);
    valid = valid && params[i] != NULL;
  }
  return valid;
}

void h_pg_array_free(struct h_pg_array *a) {
  free(a->buf);
  *a = (struct h_pg_array){.oid = a->oid};
}

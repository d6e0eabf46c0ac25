/* urlform.c - a small urlencoded form decoder. */
#include "http/urlform.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Decodes n bytes of s into a new string (caller frees); NULL for a bad escape. */
static char *decode(const char *s, size_t n) {
  char *out = h_malloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') {
      *o++ = ' ';
    } else if (s[i] == '%') {
      int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
      int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        free(out);
        return NULL;
      }
      *o++ = (char)(hi * 16 + lo);
      i += 2;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

void h_urlform_free(struct h_urlform *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->names[i]);
    free(f->values[i]);
  }
  free(f->names);
  free(f->values);
  f->names = f->values = NULL;
  f->n = 0;
}

h_result h_urlform_parse(const char *body, size_t len, size_t max_fields, struct h_urlform *out) {
  out->n = 0;
  out->names = h_calloc(max_fields + 1, sizeof(char *));
  out->values = h_calloc(max_fields + 1, sizeof(char *));
  size_t pos = 0;
  while (pos < len) {
    const char *field = body + pos;
    const char *amp = memchr(field, '&', len - pos);
    size_t flen = amp != NULL ? (size_t)(amp - field) : len - pos;
    pos += flen + 1;
    if (flen == 0) {
      continue;
    }
    if (out->n == max_fields) {
      return H_ERR_INVALID;
    }
    const char *eq = memchr(field, '=', flen);
    size_t nlen = eq != NULL ? (size_t)(eq - field) : flen;
    char *name = decode(field, nlen);
    char *value = eq != NULL ? decode(eq + 1, flen - nlen - 1) : h_strdup("");
    if (name == NULL || value == NULL) {
      free(name);
      free(value);
      return H_ERR_INVALID;
    }
    out->names[out->n] = name;
    out->values[out->n++] = value;
  }
  return H_OK;
}

const char *h_urlform_get(const struct h_urlform *f, const char *name) {
  for (size_t i = 0; i < f->n; i++) {
    if (strcmp(f->names[i], name) == 0) {
      return f->values[i];
    }
  }
  return NULL;
}

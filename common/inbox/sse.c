/* sse.c - see sse.h. */
#include "inbox/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define FIRST_CAP 256

char *h_sse_event(long long id, const char *event, const char *data, size_t *len) {
  size_t lines = 1;
  for (const char *p = data; *p != '\0'; p++) {
    lines += *p == '\n';
  }
  size_t cap = strlen(event) + strlen(data) + lines * 7 + 64;
  char *out = h_malloc(cap);
  size_t n = 0;
  if (id >= 0) {
    n += (size_t)snprintf(out, cap, "id: %lld\n", id);
  }
  n += (size_t)snprintf(out + n, cap - n, "event: %s\n", event);
  const char *p = data;
  for (;;) {
    size_t seg = strcspn(p, "\n");
    memcpy(out + n, "data: ", 6);
    n += 6;
    for (size_t i = 0; i < seg; i++) {
      if (p[i] != '\r') {
        out[n++] = p[i];
      }
    }
    out[n++] = '\n';
    if (p[seg] == '\0') {
      break;
    }
    p += seg + 1;
  }
  out[n++] = '\n';
  out[n] = '\0';
  *len = n;
  return out;
}

void h_sse_buf_init(struct h_sse_buf *b, size_t limit) {
  memset(b, 0, sizeof(*b));
  b->limit = limit;
}

void h_sse_buf_free(struct h_sse_buf *b) {
  free(b->data);
  b->data = NULL;
  b->off = b->len = b->cap = 0;
}

size_t h_sse_buf_used(const struct h_sse_buf *b) { return b->len - b->off; }

bool h_sse_buf_append(struct h_sse_buf *b, const char *s, size_t n, size_t reserve) {
  size_t used = h_sse_buf_used(b);
  if (reserve > b->limit || used + n > b->limit - reserve) {
    return false;
  }
  if (b->off > 0 && b->len + n > b->cap) { /* compact before growing */
    memmove(b->data, b->data + b->off, used);
    b->off = 0;
    b->len = used;
  }
  if (b->len + n > b->cap) {
    size_t cap = b->cap > 0 ? b->cap : FIRST_CAP;
    while (cap < b->len + n) {
      cap *= 2;
    }
    if (cap > b->limit) {
      cap = b->limit;
    }
    b->data = h_realloc(b->data, cap);
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return true;
}

size_t h_sse_buf_take(struct h_sse_buf *b, char *out, size_t max) {
  size_t used = h_sse_buf_used(b);
  size_t n = used < max ? used : max;
  if (n == 0) {
    return 0;
  }
  memcpy(out, b->data + b->off, n);
  b->off += n;
  if (b->off == b->len) { /* drained: an idle stream keeps no storage */
    h_sse_buf_free(b);
  }
  return n;
}

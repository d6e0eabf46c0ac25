/* json_text.c - JSON text written straight into one growing buffer. */
#include "core/json_text.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void h_jt_init(struct h_json_text *w, size_t cap) {
  w->cap = cap > 16 ? cap : 16;
  w->s = h_malloc(w->cap);
  w->s[0] = '\0';
  w->len = 0;
}

/* Room for n more bytes and the terminating NUL. */
static void reserve(struct h_json_text *w, size_t n) {
  if (w->len + n + 1 > w->cap) {
    while (w->len + n + 1 > w->cap) {
      w->cap *= 2;
    }
    w->s = h_realloc(w->s, w->cap);
  }
}

static void put(struct h_json_text *w, const char *s, size_t n) {
  reserve(w, n);
  memcpy(w->s + w->len, s, n);
  w->len += n;
  w->s[w->len] = '\0';
}

/* A comma before a value or member that follows another: one is due unless the text is
 * empty or ends with an opening bracket or a member's colon. */
static void separate(struct h_json_text *w) {
  if (w->len > 0) {
    char last = w->s[w->len - 1];
    if (last != '{' && last != '[' && last != ':') {
      put(w, ",", 1);
    }
  }
}

/* s quoted and escaped as jansson's json_dumps escapes it. */
static void quoted(struct h_json_text *w, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  put(w, "\"", 1);
  const char *run = s; /* the start of the bytes copied as they are */
  for (const char *c = s;; c++) {
    unsigned char u = (unsigned char)*c;
    if (u != '\0' && u != '"' && u != '\\' && u >= 0x20) {
      continue;
    }
    put(w, run, (size_t)(c - run));
    if (u == '\0') {
      break;
    }
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (u) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[u >> 4];
      esc[5] = hex[u & 0xF];
      n = 6;
    }
    put(w, esc, n);
    run = c + 1;
  }
  put(w, "\"", 1);
}

void h_jt_open(struct h_json_text *w, char c) {
  separate(w);
  put(w, &c, 1);
}

void h_jt_close(struct h_json_text *w, char c) { put(w, &c, 1); }

void h_jt_key(struct h_json_text *w, const char *key) {
  separate(w);
  quoted(w, key);
  put(w, ":", 1);
}

void h_jt_string(struct h_json_text *w, const char *s) {
  separate(w);
  if (s == NULL) {
    put(w, "null", 4);
  } else {
    quoted(w, s);
  }
}

void h_jt_member(struct h_json_text *w, const char *key, const char *value) {
  h_jt_key(w, key);
  h_jt_string(w, value);
}

char *h_jt_take(struct h_json_text *w) {
  char *s = w->s;
  w->s = NULL;
  w->len = w->cap = 0;
  return s;
}

void h_jt_free(struct h_json_text *w) { free(h_jt_take(w)); }

/* json_text.c - JSON text written straight into one growing buffer. */
#include "core/json_text.h"

#include <stdio.h>
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

/* The n bytes at s quoted and escaped as jansson's json_dumps escapes them. */
static void quoted_n(struct h_json_text *w, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  put(w, "\"", 1);
  const char *run = s, *end = s + n; /* run: the start of the bytes copied as they are */
  for (const char *c = s;; c++) {
    unsigned char u = c < end ? (unsigned char)*c : 0;
    if (c < end && u != '"' && u != '\\' && u >= 0x20) {
      continue;
    }
    put(w, run, (size_t)(c - run));
    if (c == end) {
      break;
    }
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t len = 2;
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
      len = 6;
    }
    put(w, esc, len);
    run = c + 1;
  }
  put(w, "\"", 1);
}

static void quoted(struct h_json_text *w, const char *s) { quoted_n(w, s, strlen(s)); }

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

void h_jt_value(struct h_json_text *w, const json_t *v) {
  const char *key;
  json_t *member;
  size_t i, key_len;
  char number[32];
  switch (v != NULL ? json_typeof(v) : JSON_NULL) {
  case JSON_OBJECT:
    h_jt_open(w, '{');
    json_object_keylen_foreach ((json_t *)v, key, key_len, member) {
      separate(w);
      quoted_n(w, key, key_len);
      put(w, ":", 1);
      h_jt_value(w, member);
    }
    h_jt_close(w, '}');
    break;
  case JSON_ARRAY:
    h_jt_open(w, '[');
    json_array_foreach (v, i, member) {
      h_jt_value(w, member);
    }
    h_jt_close(w, ']');
    break;
  case JSON_STRING:
    separate(w);
    quoted_n(w, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    separate(w);
    put(w, number, (size_t)snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT,
                                    json_integer_value(v)));
    break;
  case JSON_REAL: {
    separate(w);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    put(w, text != NULL ? text : "null", text != NULL ? strlen(text) : 4);
    free(text);
    break;
  }
  case JSON_TRUE:
    separate(w);
    put(w, "true", 4);
    break;
  case JSON_FALSE:
    separate(w);
    put(w, "false", 5);
    break;
  case JSON_NULL:
    separate(w);
    put(w, "null", 4);
    break;
  }
}

void h_jt_reset(struct h_json_text *w) {
  w->len = 0;
  w->s[0] = '\0';
}

char *h_jt_take(struct h_json_text *w) {
  char *s = w->s;
  w->s = NULL;
  w->len = w->cap = 0;
  return s;
}

void h_jt_free(struct h_json_text *w) { free(h_jt_take(w)); }

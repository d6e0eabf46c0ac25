/* json_text.c - JSON text written straight into one growing buffer. */
#include "core/json_text.h"

#include <stdbool.h>
#include <stdint.h>
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

/* Whether byte u is written escaped: the quote, the backslash, a control character. */
static bool needs_escape(unsigned char u) { return u == '"' || u == '\\' || u < 0x20; }

/* Whether one of the eight bytes in x needs escaping. Each test is the classic "has a zero
 * byte" one, (v - 0x01..) & ~v & 0x80..: exact as to whether any byte matches, which is all
 * it is asked (the byte loop then finds which). Below 0x20 is the same test against 0x20. */
static bool word_needs_escape(uint64_t x) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
  return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & highs;
}

/* The n bytes at s quoted and escaped as jansson's json_dumps escapes them. The bytes
 * between escapes are copied in runs, found eight at a time. */
static void quoted_n(struct h_json_text *w, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  put(w, "\"", 1);
  const char *c = s, *end = s + n;
  for (;;) {
    const char *run = c; /* copied as it is, up to the next byte to escape */
    uint64_t x;
    while (end - c >= 8 && (memcpy(&x, c, 8), !word_needs_escape(x))) {
      c += 8;
    }
    while (c < end && !needs_escape((unsigned char)*c)) {
      c++;
    }
    put(w, run, (size_t)(c - run));
    if (c == end) {
      break;
    }
    unsigned char u = (unsigned char)*c++;
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

/* A member of an object, for the sorted print. */
struct member {
  const char *key;
  size_t len;
  json_t *value;
};

/* The order of JSON_SORT_KEYS: bytes, then the shorter key first. */
static int member_order(const void *a, const void *b) {
  const struct member *x = a, *y = b;
  int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
  return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static void value(struct h_json_text *w, const json_t *v, bool sorted);

/* The members of object v, in key order when sorted, else in the tree's. */
static void object(struct h_json_text *w, const json_t *v, bool sorted) {
  const char *key;
  json_t *item;
  size_t key_len;
  h_jt_open(w, '{');
  size_t n = json_object_size(v);
  if (!sorted || n < 2) {
    json_object_keylen_foreach ((json_t *)v, key, key_len, item) {
      separate(w);
      quoted_n(w, key, key_len);
      put(w, ":", 1);
      value(w, item, sorted);
    }
  } else {
    struct member few[16];
    struct member *m = n <= 16 ? few : h_malloc(n * sizeof(*m));
    size_t i = 0;
    json_object_keylen_foreach ((json_t *)v, key, key_len, item) {
      m[i++] = (struct member){key, key_len, item};
    }
    qsort(m, n, sizeof(*m), member_order);
    for (i = 0; i < n; i++) {
      separate(w);
      quoted_n(w, m[i].key, m[i].len);
      put(w, ":", 1);
      value(w, m[i].value, sorted);
    }
    if (m != few) {
      free(m);
    }
  }
  h_jt_close(w, '}');
}

static void value(struct h_json_text *w, const json_t *v, bool sorted) {
  json_t *item;
  size_t i;
  char number[32];
  switch (v != NULL ? json_typeof(v) : JSON_NULL) {
  case JSON_OBJECT:
    object(w, v, sorted);
    break;
  case JSON_ARRAY:
    h_jt_open(w, '[');
    json_array_foreach (v, i, item) {
      value(w, item, sorted);
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

void h_jt_value(struct h_json_text *w, const json_t *v) { value(w, v, false); }

void h_jt_value_sorted(struct h_json_text *w, const json_t *v) { value(w, v, true); }

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

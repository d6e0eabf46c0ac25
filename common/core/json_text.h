/* json_text.h - JSON text written straight into one growing buffer.
 *
 * For the few bodies printed on a hot path whose shape is fixed in code (the 202 of
 * POST /api/v1/notifications, its audit details): jansson would build a tree (an allocation
 * per object, member and string) only to print it and free it again. Everything else builds
 * jansson trees. h_jt_value prints such a tree where json_dumps would cost more than the
 * text: a send's rendered content, written with every batch (json_dumps guards each object
 * against cycles with a formatted pointer in a hash table, about 25,000 instructions for
 * that content against about 3,000 here).
 *
 * The text is what json_dumps(tree, JSON_COMPACT) prints for the same tree, byte for byte:
 * members in the order written, no spaces, strings escaped as jansson escapes them (the
 * quote, the backslash, and control characters: \b \f \n \r \t by name, the others as \u00XX
 * with upper-case hex; everything else, '/' and UTF-8 included, as it is). Strings must be
 * valid UTF-8 (the text is copied as it is).
 *
 *   struct h_json_text w;
 *   h_jt_init(&w, 256);
 *   h_jt_open(&w, '{');
 *   h_jt_key(&w, "id");
 *   h_jt_string(&w, id);
 *   h_jt_close(&w, '}');
 *   char *text = h_jt_take(&w);    (the caller frees it)
 *
 * Commas are written where they are due: before a member or an array element that follows
 * another. */
#ifndef HERALD_JSON_TEXT_H
#define HERALD_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

struct h_json_text {
  char *s;  /* owned, NUL-terminated */
  size_t len, cap;
};

/* An empty text with room for about cap bytes (it grows as needed). */
void h_jt_init(struct h_json_text *w, size_t cap);
/* Starts an object ('{') or an array ('['), as a value. */
void h_jt_open(struct h_json_text *w, char c);
/* Ends it ('}' or ']'). */
void h_jt_close(struct h_json_text *w, char c);
/* A member's name (borrowed, escaped) and its colon; its value follows. */
void h_jt_key(struct h_json_text *w, const char *key);
/* A string value (borrowed, escaped); NULL writes null. */
void h_jt_string(struct h_json_text *w, const char *s);
/* A member whose value is a string (or null). */
void h_jt_member(struct h_json_text *w, const char *key, const char *value);
/* A jansson value (borrowed; NULL writes null), as json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY) prints it: members in the tree's order, strings by their length (an
 * embedded NUL is \u0000). Reals are printed by jansson itself. The tree must not hold
 * itself (jansson refuses to build one that does only through json_object_set and
 * json_array_append; the parser never builds one). */
void h_jt_value(struct h_json_text *w, const json_t *v);
/* The same with every object's members in key order, as json_dumps prints them with
 * JSON_SORT_KEYS (byte order; a key before the longer keys it begins). */
void h_jt_value_sorted(struct h_json_text *w, const json_t *v);
/* Empties the text and keeps its buffer, for the next one. */
void h_jt_reset(struct h_json_text *w);
/* The text (the caller frees it); *w is empty afterwards. */
char *h_jt_take(struct h_json_text *w);
/* Frees the text of *w. */
void h_jt_free(struct h_json_text *w);

#endif

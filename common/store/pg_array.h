/* pg_array.h - PostgreSQL arrays built in one growing buffer, so a statement takes a whole
 * column of rows as one parameter ($1::uuid[] ... unnest) instead of a statement per row or a
 * JSON document parsed again by the server. Two forms: the text literal ({"a",NULL,"b"}),
 * and the binary form of array_send(), which the server takes without parsing quotes,
 * escapes or UUID digits (h_pg_array_binary). */
#ifndef HERALD_PG_ARRAY_H
#define HERALD_PG_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* The element type of a binary array; H_PG_LITERAL (0, the default) builds the text form. */
enum h_pg_elem { H_PG_LITERAL = 0, H_PG_TEXT, H_PG_UUID, H_PG_JSONB, H_PG_BOOL, H_PG_INT4 };

struct h_pg_array {
  char *buf;  /* owned: the literal ("{" then the elements) or the binary form */
  size_t len, cap;
  int n;      /* elements so far */
  enum h_pg_elem elem;
  bool bad;   /* an element the binary type cannot hold (a UUID that is not one) */
};

/* Makes the empty array a binary array of elem (call before the first add). */
void h_pg_array_binary(struct h_pg_array *a, enum h_pg_elem elem);

/* Appends s (copied; NULL: an SQL NULL element): quoted and escaped in a literal; as the
 * element type's binary value otherwise (text and jsonb as is, a UUID's 16 bytes). */
void h_pg_array_add(struct h_pg_array *a, const char *s);

/* Appends a boolean ("t"/"f" in a literal). */
void h_pg_array_add_bool(struct h_pg_array *a, int value);

/* Appends an integer (H_PG_INT4 or a literal). */
void h_pg_array_add_long(struct h_pg_array *a, long value);

/* The literal so far ("{}" when empty), borrowed: valid until the next add or free. */
const char *h_pg_array_text(struct h_pg_array *a);

/* The parameter for PQexecParams: value, length and format (1: binary, 0: text), borrowed
 * like h_pg_array_text. */
const char *h_pg_array_param(struct h_pg_array *a, int *length, int *format);

/* Frees the buffer and empties a (a stays usable, in its form). */
void h_pg_array_free(struct h_pg_array *a);

#endif

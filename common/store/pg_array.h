/* pg_array.h - PostgreSQL array literals ({"a",NULL,"b"}) built in one growing buffer, so a
 * statement takes a whole column of rows as one parameter ($1::uuid[] ... unnest) instead
 * of a statement per row or a JSON document parsed again by the server. */
#ifndef HERALD_PG_ARRAY_H
#define HERALD_PG_ARRAY_H

#include <stddef.h>

struct h_pg_array {
  char *buf;  /* owned: "{" then the elements; h_pg_array_text closes it */
  size_t len, cap;
  int n;      /* elements so far */
};

/* Appends s (copied; NULL: an SQL NULL element), quoted and escaped. */
void h_pg_array_add(struct h_pg_array *a, const char *s);

/* Appends "t" or "f". */
void h_pg_array_add_bool(struct h_pg_array *a, int value);

/* Appends an integer. */
void h_pg_array_add_long(struct h_pg_array *a, long value);

/* The literal so far ("{}" when empty), borrowed: valid until the next add or free. */
const char *h_pg_array_text(struct h_pg_array *a);

/* Frees the buffer and empties a (a stays usable). */
void h_pg_array_free(struct h_pg_array *a);

#endif

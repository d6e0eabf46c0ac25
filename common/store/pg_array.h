/* pg_array.h - PostgreSQL arrays built in one growing buffer, so a statement takes a whole
 * column of rows as one parameter ($1::uuid[] ... unnest) instead of a statement per row or
 * a JSON document parsed again by the server.
 *
 * Two encodings:
 * - text (oid 0, the zero value): an array literal, {"a",NULL,"b"}, sent as a text
 *   parameter;
 * - binary (oid set to the element type's, H_PG_OID_*, before the first add): PostgreSQL's
 *   binary array format (what array_recv reads), sent as a binary parameter. The server then
 *   copies each element instead of scanning and unescaping a literal and running the
 *   element type's text input (uuid_in, textin...): the literals of a group-commit batch
 *   cost its statement about a tenth of its time (bench/README.md). */
#ifndef HERALD_PG_ARRAY_H
#define HERALD_PG_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Element types of binary arrays (pg_type.h is not part of libpq's public headers). */
enum { H_PG_OID_BOOL = 16, H_PG_OID_INT8 = 20, H_PG_OID_INT4 = 23, H_PG_OID_TEXT = 25,
       H_PG_OID_FLOAT8 = 701, H_PG_OID_UUID = 2950, H_PG_OID_JSONB = 3802 };

struct h_pg_array {
  char *buf;    /* owned: text: "{" then the elements (h_pg_array_text closes it);
                 * binary: room for the header, then the elements */
  size_t len, cap;
  int n;        /* elements so far */
  unsigned oid; /* 0: text literal; else binary, of elements of this type */
  bool nulls;   /* binary: an element is NULL */
  bool invalid; /* binary: an element was not of the type (a uuid that is not one) */
};

/* Appends s (copied; NULL: an SQL NULL element). Text: quoted and escaped. Binary: the
 * bytes of s for text, a version byte and s for jsonb, its 16 bytes for a uuid (text that
 * is not a uuid marks the array invalid). */
void h_pg_array_add(struct h_pg_array *a, const char *s);

/* Appends "t" or "f" (binary: of a bool array). */
void h_pg_array_add_bool(struct h_pg_array *a, int value);

/* Appends an integer (binary: of an int8 array, or of an int4 array when it fits 32 bits). */
void h_pg_array_add_long(struct h_pg_array *a, long long value);

/* Appends a float8 (text: printed with 17 significant digits, so it reads back the same;
 * binary: its IEEE 754 bits, of a float8 array). */
void h_pg_array_add_double(struct h_pg_array *a, double value);

/* The literal so far ("{}" when empty), borrowed: valid until the next add or free. Text
 * arrays only. */
const char *h_pg_array_text(struct h_pg_array *a);

/* The parameter of either encoding, borrowed like h_pg_array_text: its bytes (*len of them,
 * *format 0 text or 1 binary, as PQexecParams takes them); NULL when the array is invalid.
 * Reading it does not end the array: adding goes on after it. */
const char *h_pg_array_param(struct h_pg_array *a, int *len, int *format);

/* h_pg_array_param of a[0..n) into params[i], lengths[i] and formats[i]: the parameters of a
 * statement (h_db_exec_formats). False when an array is invalid (its params[i] is NULL). */
bool h_pg_array_params(struct h_pg_array *a, int n, const char **params, int *lengths,
                       int *formats);

/* Frees the buffer and empties a (a stays usable, with the same oid). */
void h_pg_array_free(struct h_pg_array *a);

#endif

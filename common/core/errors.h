/* errors.h - failures as data (struct h_error) and the one builder of error bodies on the
 * wire:
 *   {"error":{"type":"...","code":"...","message":"...","param":"...","errors":[...]}}
 *
 * Validators collect every field error into an h_field_errors list first and
 * hand the whole list to the 400 body. */
#ifndef HERALD_ERRORS_H
#define HERALD_ERRORS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/result.h"

/* Returns a new reference. code NULL -> the result's default code; param may be NULL;
 * errors (a JSON array, may be NULL) is stolen. */
json_t *h_error_body(h_result r, const char *code, const char *message, const char *param,
                     json_t *errors);

/* A failure described as data by the layer that met it, for the layer that answers it
 * (api/http builds the body and picks the status). The zero value means the result's
 * defaults. */
struct h_error {
  char type[32];     /* "" for the result's type, or e.g. "idempotency_error" */
  char code[64];     /* "" for the result's default code */
  char message[256];
  char param[64];    /* "" when no single field is at fault */
  json_t *extra;     /* more members of the error object (owned) or NULL, e.g. decline_code */
  bool retry_after;  /* passing (a provider did not answer): the client may retry later */
};

/* Fills code, message and param (NULL leaves "") and returns r, for `return h_error_set(...)`. */
h_result h_error_set(struct h_error *e, h_result r, const char *code, const char *message,
                     const char *param);

/* Frees what e holds and empties it. */
void h_error_clear(struct h_error *e);

/* A list of field errors; the zero value is ready to use. */
struct h_field_errors {
  json_t *list; /* owned; NULL while empty */
};

/* Appends {"param","code","message"}; the strings are copied, bytes that are not valid UTF-8
 * (a name cut inside a character) replaced by '?', so an error is never lost. */
void h_field_error(struct h_field_errors *fe, const char *param, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Replaces in place every byte of s that does not start a valid UTF-8 sequence by '?'
 * (a sequence cut short included). */
void h_utf8_repair(char *s);

/* Number of collected errors. */
size_t h_field_errors_count(const struct h_field_errors *fe);

/* Returns the 400 body listing every error (new reference) and empties fe.
 * The top-level code/param/message are the first error's. */
json_t *h_field_errors_body(struct h_field_errors *fe);

/* Frees what fe holds. */
void h_field_errors_clear(struct h_field_errors *fe);

#endif

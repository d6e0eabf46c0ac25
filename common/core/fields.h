/* fields.h - readers of JSON request fields and checks of their values.
 *
 * Each reader records a field error (and returns NULL/false) instead of answering, so
 * the caller collects every error and reports them together (core/errors.h). */
#ifndef HERALD_FIELDS_H
#define HERALD_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/errors.h"

/* Records unknown_field for every member of body not listed in allowed (NULL-terminated). */
void h_reject_unknown(const json_t *body, const char *const *allowed, struct h_field_errors *fe);

/* A string member: NULL when absent (missing_field if required), a wrong type
 * (invalid_type), or longer than maxlen characters (too_long). Borrowed from body. */
const char *h_field_string(const json_t *body, const char *name, bool required, size_t maxlen,
                           struct h_field_errors *fe);

/* A boolean member into *out; false when absent or invalid (error recorded if invalid
 * or if required and missing). */
bool h_field_bool(const json_t *body, const char *name, bool required, bool *out,
                  struct h_field_errors *fe);

/* obj's members with every value as a string, the form of FCM's data payload: strings as
 * they are, other values as their compact JSON text ("42", "true", "{\"a\":1}"). *bytes
 * (when not NULL) receives the sum of the keys' and values' lengths. New reference. */
json_t *h_json_string_map(const json_t *obj, size_t *bytes);

/* Pure checks. */
bool h_valid_email(const char *s);
bool h_valid_phone(const char *s);    /* E.164: + and 7 to 15 digits */
bool h_valid_timezone(const char *s); /* an IANA zone known to the system tz database */
bool h_valid_locale(const char *s);   /* "en", "pt-BR" */
bool h_valid_timestamp(const char *s); /* RFC 3339: 2026-01-31T12:00:00Z or with offset */

#endif

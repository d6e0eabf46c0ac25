/* validate.h - field readers and checks for request bodies and query strings.
 *
 * Each reader records a field error (and returns NULL/false) instead of replying,
 * so a handler collects every error and answers once with h_reply_field_errors. */
#ifndef HERALD_VALIDATE_H
#define HERALD_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "errors.h"
#include "http.h"

/* Replies 400 and returns false unless the request has a JSON object body. */
bool h_require_object(struct h_req *rq);

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

/* Pure checks. */
bool h_valid_email(const char *s);
bool h_valid_phone(const char *s);    /* E.164: + and 7 to 15 digits */
bool h_valid_timezone(const char *s); /* an IANA zone known to the system tz database */
bool h_valid_locale(const char *s);   /* "en", "pt-BR" */
bool h_valid_timestamp(const char *s); /* RFC 3339: 2026-01-31T12:00:00Z or with offset */

struct h_page {
  int limit;                  /* 1..100, default 20 */
  const char *starting_after; /* a UUID or NULL; borrowed from the request */
};

/* Reads ?limit= and ?starting_after=, recording errors. */
void h_page_parse(const struct h_req *rq, struct h_page *page, struct h_field_errors *fe);

/* {"object":"list","data":data,"has_more":has_more}; data is stolen. */
json_t *h_list_body(json_t *data, bool has_more);

#endif

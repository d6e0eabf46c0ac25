/* http_client.h - outgoing HTTP for the providers (SMS API, FCM, OAuth2 tokens),
 * on libcurl.
 *
 * A struct h_http is one easy handle owned by one thread; it keeps its connection
 * alive between requests to the same host. Call curl_global_init() once in main()
 * before any thread creates one. */
#ifndef HERALD_HTTP_CLIENT_H
#define HERALD_HTTP_CLIENT_H

#include <stddef.h>
#include <time.h>

#include "core/result.h"

struct h_http;

struct h_http_request {
  const char *method;             /* "GET", "POST" */
  const char *url;
  const char *const *headers;     /* NULL-terminated "Name: value" list, or NULL */
  const char *body;               /* may be NULL */
  size_t body_len;
  const char *basic_user;         /* Basic auth when not NULL */
  const char *basic_password;
};

struct h_http_response {
  long status;                    /* 0 when no response arrived */
  char *body;                     /* owned, NUL-terminated ("" at least) */
  size_t body_len;
  int retry_after_s;              /* from Retry-After, -1 when absent or malformed */
  char error[256];                /* transport error text, when the call failed */
};

/* Caller frees with h_http_destroy. timeout_ms bounds a whole request. */
struct h_http *h_http_create(int timeout_ms, int connect_timeout_ms);
void h_http_destroy(struct h_http *h);

/* Sends rq and fills out (caller h_http_response_free()s it, whatever the result).
 * H_OK when a response arrived, whatever its status; H_ERR_TIMEOUT when none came
 * in time; H_ERR_UNAVAILABLE for connection and protocol failures. */
h_result h_http_send(struct h_http *h, const struct h_http_request *rq,
                     struct h_http_response *out);
void h_http_response_free(struct h_http_response *r);

/* Seconds asked by a Retry-After value (delta-seconds or an HTTP-date, relative
 * to now); -1 when malformed. Pure. */
int h_http_parse_retry_after(const char *value, time_t now);

/* application/x-www-form-urlencoded body of pairs (name, value, name, value, ...,
 * NULL); pairs whose value is NULL are skipped. New string the caller frees. */
char *h_http_form_encode(const char *const *pairs);

/* Percent-encodes s (unreserved characters kept). New string the caller frees. */
char *h_http_escape(const char *s);

#endif

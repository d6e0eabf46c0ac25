/* http_client.h - Herald's one outgoing HTTP client, on libcurl: the providers (SMS API,
 * FCM, OAuth2 tokens, Stripe) all go through it.
 *
 * A struct h_http is one easy handle owned by one thread; it keeps its connection
 * alive between requests to the same host. Workers create one per thread with
 * h_http_create (after curl_global_init() in main()); code that runs on threads it
 * does not own (the API's handlers) takes h_http_thread(). A struct h_http_multi sends
 * several requests at once from one thread (the push worker's windows). Every request verifies
 * TLS peers and host names, speaks only http and https, is bounded in time
 * (whole request and connect), never follows redirects and reads at most H_HTTP_MAX_BODY
 * bytes of body. */
#ifndef HERALD_HTTP_CLIENT_H
#define HERALD_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "core/result.h"

/* Longest response body read; a longer one fails the request (H_ERR_UNAVAILABLE). */
#define H_HTTP_MAX_BODY ((size_t)16 << 20)

/* Largest Retry-After honoured, in seconds; longer waits are clamped to it. */
#define H_HTTP_RETRY_AFTER_MAX (7 * 86400)

struct h_http;

/* Called for every response header but Retry-After (parsed into retry_after_s):
 * name and value are NUL-terminated, value trimmed; both borrowed for the call. */
typedef void (*h_http_header_fn)(const char *name, const char *value, void *ctx);

struct h_http_request {
  const char *method;             /* "GET", "POST" */
  const char *url;
  const char *const *headers;     /* NULL-terminated "Name: value" list, or NULL */
  const char *body;               /* may be NULL */
  size_t body_len;
  const char *basic_user;         /* Basic auth when not NULL */
  const char *basic_password;
  const char *user_agent;         /* User-Agent, or NULL for none */
  long timeout_ms;                /* this request's bounds; 0: the handle's */
  long connect_timeout_ms;
  h_http_header_fn on_header;     /* may be NULL */
  void *header_ctx;
  /* Outgoing requests to addresses users chose (webhooks): */
  const char *resolve;            /* "host:port:address": connect there, no DNS; or NULL */
  /* Asked before every connection with the address about to be used; false refuses it
   * (the request fails with H_ERR_UNAVAILABLE). Set: no proxy is used. May be NULL. */
  bool (*allow_address)(const struct sockaddr *sa, void *ctx);
  void *address_ctx;
  size_t max_body;                /* longest body read; 0: H_HTTP_MAX_BODY */
};

struct h_http_response {
  long status;                    /* 0 when no response arrived */
  char *body;                     /* owned, NUL-terminated ("" at least) */
  size_t body_len;
  int retry_after_s;              /* from Retry-After, -1 when absent or malformed */
  char error[256];                /* transport error text, when the call failed */
  double elapsed_ms;              /* from the request's start to its end */
};

/* Caller frees with h_http_destroy. timeout_ms bounds a whole request. */
struct h_http *h_http_create(int timeout_ms, int connect_timeout_ms);
void h_http_destroy(struct h_http *h);

/* This thread's client (30 s per request, 10 s to connect unless a request says
 * otherwise), created on first use and freed when the thread exits; borrowed. Also
 * runs curl_global_init() once for processes that do not. */
struct h_http *h_http_thread(void);

/* Sends rq and fills out (caller h_http_response_free()s it, whatever the result).
 * H_OK when a response arrived, whatever its status; H_ERR_TIMEOUT when none came
 * in time; H_ERR_UNAVAILABLE for connection and protocol failures and bodies over
 * H_HTTP_MAX_BODY. */
h_result h_http_send(struct h_http *h, const struct h_http_request *rq,
                     struct h_http_response *out);
void h_http_response_free(struct h_http_response *r);

/* Several requests in flight at once from one thread: a libcurl multi handle that keeps
 * its connections alive between calls (and multiplexes them over HTTP/2 when the server
 * offers it). Owned by one thread; the same rules as struct h_http apply to each request. */
struct h_http_multi;

/* At most max_parallel requests at once (1 or more). Caller frees with h_http_multi_destroy. */
struct h_http_multi *h_http_multi_create(int timeout_ms, int connect_timeout_ms,
                                         int max_parallel);
void h_http_multi_destroy(struct h_http_multi *m);
/* The max_parallel it was created with. */
int h_http_multi_parallel(const struct h_http_multi *m);

/* Sends rq[0..n), at most max_parallel at a time (the next starts when one ends), and
 * returns when every one has ended: out[i] and results[i] as h_http_send gives them for
 * rq[i] (the caller h_http_response_free()s each out[i]). */
void h_http_send_all(struct h_http_multi *m, const struct h_http_request *rq, size_t n,
                     struct h_http_response *out, h_result *results);

/* Seconds asked by a Retry-After value (RFC 9110 10.2.3): delay-seconds, or an
 * HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms) relative to
 * now, a date in the past giving 0; clamped to H_HTTP_RETRY_AFTER_MAX. Surrounding
 * spaces, tabs and CR/LF are ignored; anything else malformed gives -1. Pure. */
int h_http_parse_retry_after(const char *value, time_t now);

/* application/x-www-form-urlencoded body of pairs (name, value, name, value, ...,
 * NULL); pairs whose value is NULL are skipped. New string the caller frees. */
char *h_http_form_encode(const char *const *pairs);

/* Percent-encodes s (unreserved characters kept). New string the caller frees. */
char *h_http_escape(const char *s);

#endif

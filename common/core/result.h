/* result.h - the one set of result codes shared by every layer.
 *
 * Functions return an h_result and hand data out through out-parameters.
 * h_result_http_status() in api/http is the only place that maps a code to HTTP. */
#ifndef HERALD_RESULT_H
#define HERALD_RESULT_H

typedef enum {
  H_OK = 0,
  H_ERR_INVALID,          /* bad input: 400 */
  H_ERR_UNAUTHORIZED,     /* missing or bad credentials: 401 */
  H_ERR_PAYMENT,          /* card declined and the like: 402 */
  H_ERR_FORBIDDEN,        /* authenticated but not allowed: 403 */
  H_ERR_NOT_FOUND,        /* 404 */
  H_ERR_METHOD,           /* route exists, method does not: 405 */
  H_ERR_CONFLICT,         /* unique violation, in-flight idempotent request: 409 */
  H_ERR_TOO_LARGE,        /* body over the limit: 413 */
  H_ERR_MEDIA_TYPE,       /* body is not JSON: 415 */
  H_ERR_UNPROCESSABLE,    /* well-formed but impossible: 422 */
  H_ERR_RATE_LIMITED,     /* 429 */
  H_ERR_UNAVAILABLE,      /* PostgreSQL, Redis or a provider down: 503 */
  H_ERR_TIMEOUT,          /* an operation ran out of time: 503 */
  H_ERR_INTERNAL,         /* a bug or an impossible state: 500 */
  H_RESULT_COUNT
} h_result;

/* Static name of the code ("H_ERR_CONFLICT"), for logs. */
const char *h_result_name(h_result r);

/* The error "type" of the wire format for a code ("invalid_request_error", ...). Static. */
const char *h_result_error_type(h_result r);

/* The default machine-readable error "code" for a code ("not_found", ...). Static. */
const char *h_result_error_code(h_result r);

#endif

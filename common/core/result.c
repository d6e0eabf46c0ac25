/* result.c - result codes: names, and the wire error type and code of each. */
#include "core/result.h"

struct result_row {
  const char *name;
  const char *type;
  const char *code;
};

static const struct result_row rows[H_RESULT_COUNT] = {
  [H_OK]                = {"H_OK", "", ""},
  [H_ERR_INVALID]       = {"H_ERR_INVALID", "invalid_request_error", "invalid_request"},
  [H_ERR_UNAUTHORIZED]  = {"H_ERR_UNAUTHORIZED", "authentication_error", "unauthorized"},
  [H_ERR_PAYMENT]       = {"H_ERR_PAYMENT", "card_error", "payment_failed"},
  [H_ERR_FORBIDDEN]     = {"H_ERR_FORBIDDEN", "permission_error", "forbidden"},
  [H_ERR_NOT_FOUND]     = {"H_ERR_NOT_FOUND", "invalid_request_error", "not_found"},
  [H_ERR_METHOD]        = {"H_ERR_METHOD", "invalid_request_error", "method_not_allowed"},
  [H_ERR_CONFLICT]      = {"H_ERR_CONFLICT", "invalid_request_error", "conflict"},
  [H_ERR_TOO_LARGE]     = {"H_ERR_TOO_LARGE", "invalid_request_error", "body_too_large"},
  [H_ERR_MEDIA_TYPE]    = {"H_ERR_MEDIA_TYPE", "invalid_request_error", "unsupported_media_type"},
  [H_ERR_UNPROCESSABLE] = {"H_ERR_UNPROCESSABLE", "invalid_request_error", "unprocessable"},
  [H_ERR_RATE_LIMITED]  = {"H_ERR_RATE_LIMITED", "rate_limit_error", "rate_limited"},
  [H_ERR_UNAVAILABLE]   = {"H_ERR_UNAVAILABLE", "api_error", "service_unavailable"},
  [H_ERR_TIMEOUT]       = {"H_ERR_TIMEOUT", "api_error", "timeout"},
  [H_ERR_INTERNAL]      = {"H_ERR_INTERNAL", "api_error", "internal_error"},
};

static const struct result_row *row(h_result r) {
  if ((int)r < 0 || r >= H_RESULT_COUNT) {
    return &rows[H_ERR_INTERNAL];
  }
  return &rows[r];
}

const char *h_result_name(h_result r) { return row(r)->name; }
const char *h_result_error_type(h_result r) { return row(r)->type; }
const char *h_result_error_code(h_result r) { return row(r)->code; }

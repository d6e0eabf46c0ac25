/* stripe.h - a small Stripe API client over the shared HTTP client, and webhook signatures.
 *
 * Requests are form-encoded (application/x-www-form-urlencoded, nested keys as
 * metadata[key]); answers are JSON. Every POST carries the Idempotency-Key the
 * caller derives from its own object id, so a retry after a timeout replays the
 * provider's first answer instead of charging again. Retryable failures (network
 * errors and timeouts, 409 lock conflicts, 429, 5xx) are retried with backoff and
 * the same key, up to max_retries; then the mapped result is returned:
 *   2xx -> H_OK, 402 -> H_ERR_PAYMENT (card_error), 400 -> H_ERR_INVALID
 *   (H_ERR_CONFLICT for idempotency_error), 404 -> H_ERR_NOT_FOUND, 409 ->
 *   H_ERR_CONFLICT, 429 -> H_ERR_RATE_LIMITED, 401/403/5xx -> H_ERR_UNAVAILABLE,
 *   a timeout -> H_ERR_TIMEOUT, other transport errors -> H_ERR_UNAVAILABLE.
 * Each thread reuses its h_http_thread() client (and so its connections); it is
 * freed when the thread exits. The secret key is never logged. */
#ifndef HERALD_STRIPE_H
#define HERALD_STRIPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

struct h_stripe_config {
  const char *api_base;    /* "https://api.stripe.com" (no trailing slash needed); borrowed */
  const char *secret_key;  /* "sk_..."; borrowed */
  const char *api_version; /* Stripe-Version header, NULL or "" for the account default */
  long connect_timeout_ms;
  long timeout_ms;         /* per attempt */
  int max_retries;         /* extra attempts after the first, for retryable failures */
  const char *request_id;  /* ours, for log lines; may be NULL */
};

/* A form body under construction; the zero value is empty and ready. */
struct h_stripe_form {
  char *data; /* owned, NUL-terminated, NULL while empty */
  size_t len;
  size_t cap;
};

/* Appends key=value, both percent-encoded (copied). */
void h_stripe_form_add(struct h_stripe_form *f, const char *key, const char *value);
void h_stripe_form_add_ll(struct h_stripe_form *f, const char *key, long long value);
/* Appends every member of a JSON object under prefix: prefix[k]=v, nested objects
 * as prefix[k][k2], arrays as prefix[k][0]; strings as is, numbers and booleans as
 * text, null as an empty value (Stripe's way of unsetting). obj is borrowed. */
void h_stripe_form_add_json(struct h_stripe_form *f, const char *prefix, const json_t *obj);
/* The body text (never NULL; "" while empty), borrowed from f. */
const char *h_stripe_form_text(const struct h_stripe_form *f);
void h_stripe_form_free(struct h_stripe_form *f);

/* Percent-encodes s for a form (unreserved characters kept). Caller frees. */
char *h_stripe_escape(const char *s);

struct h_stripe_error {
  char type[48];         /* card_error, invalid_request_error, idempotency_error, ... */
  char code[64];         /* card_declined, resource_missing, ... */
  char decline_code[64]; /* insufficient_funds, ... */
  char param[64];
  char message[256];
};

struct h_stripe_response {
  long status;                 /* HTTP status of the last attempt, 0 when none answered */
  json_t *body;                /* parsed body of the last answer (owned) or NULL */
  struct h_stripe_error error; /* filled when status is not 2xx */
  int attempts;
  bool timed_out;              /* the last attempt ran out of time */
};

/* Sends method path (e.g. "POST", "/v1/payment_intents") with form (may be NULL;
 * for GET it becomes the query string) and idempotency_key (required for POST,
 * ignored for GET). out is always filled; free it with h_stripe_response_free. */
h_result h_stripe_call(const struct h_stripe_config *cfg, const char *method, const char *path,
                       const struct h_stripe_form *form, const char *idempotency_key,
                       struct h_stripe_response *out);
void h_stripe_response_free(struct h_stripe_response *r);

/* Pure: the result for an HTTP status and Stripe error type (NULL if none); status 0
 * is a transport failure (timed_out tells which). */
h_result h_stripe_map_status(long status, const char *error_type, bool timed_out);

/* Pure: whether a failure with this status (0: transport) may be retried. */
bool h_stripe_retryable(long status);

/* Verifies a Stripe-Signature header ("t=...,v1=...[,v1=...][,v0=...]") over the
 * raw payload: HMAC-SHA256(secret, t + "." + payload) in hex must equal one v1
 * (compared in constant time) and |now - t| must be at most tolerance_s (so stale
 * and future-dated timestamps both fail). On failure returns H_ERR_INVALID with a
 * static reason in *why (may be NULL). */
h_result h_stripe_verify_signature(const char *header, const void *payload, size_t len,
                                   const char *secret, long tolerance_s, long now,
                                   const char **why);

/* Writes "t=<t>,v1=<hex>" for payload into out (for tests and tools). */
void h_stripe_sign(const char *secret, long t, const void *payload, size_t len, char *out,
                   size_t outlen);

#endif

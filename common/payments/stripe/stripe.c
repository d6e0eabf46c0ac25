/* stripe.c - Stripe requests (form bodies, Idempotency-Key, retries, error bodies) over
 * the shared HTTP client (net/http_client.h), and webhook signature checks. */
#include "payments/stripe/stripe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "net/http_client.h"

/* ------------------------------------------------------------------ form bodies */

char *h_stripe_escape(const char *s) { return h_http_escape(s); }

/* Appends n bytes of text to f. */
static void stripe_form_append(struct h_stripe_form *f, const char *text, size_t n) {
  if (f->len + n + 1 > f->cap) {
    f->cap = (f->len + n + 1) * 2;
    f->data = h_realloc(f->data, f->cap);
  }
  memcpy(f->data + f->len, text, n);
  f->len += n;
  f->data[f->len] = '\0';
}

void h_stripe_form_add(struct h_stripe_form *f, const char *key, const char *value) {
  char *k = h_stripe_escape(key);
  char *v = h_stripe_escape(value != NULL ? value : "");
  if (f->len > 0) {
    stripe_form_append(f, "&", 1);
  }
  stripe_form_append(f, k, strlen(k));
  stripe_form_append(f, "=", 1);
  stripe_form_append(f, v, strlen(v));
  free(k);
  free(v);
}

void h_stripe_form_add_ll(struct h_stripe_form *f, const char *key, long long value) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%lld", value);
  h_stripe_form_add(f, key, buf);
}

/* Appends one JSON value under key (recursing into objects and arrays). */
static void form_add_value(struct h_stripe_form *f, const char *key, const json_t *v) {
  if (json_is_object(v) || json_is_array(v)) {
    h_stripe_form_add_json(f, key, v);
  } else if (json_is_string(v)) {
    h_stripe_form_add(f, key, json_string_value(v));
  } else if (json_is_integer(v)) {
    h_stripe_form_add_ll(f, key, (long long)json_integer_value(v));
  } else if (json_is_real(v)) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
    h_stripe_form_add(f, key, buf);
  } else if (json_is_boolean(v)) {
    h_stripe_form_add(f, key, json_is_true(v) ? "true" : "false");
  } else {
    h_stripe_form_add(f, key, "");
  }
}

void h_stripe_form_add_json(struct h_stripe_form *f, const char *prefix, const json_t *obj) {
  if (json_is_array(obj)) {
    size_t i;
    json_t *v;
    json_array_foreach(obj, i, v) {
      char *key = h_sprintf("%s[%zu]", prefix, i);
      form_add_value(f, key, v);
      free(key);
    }
    return;
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    char *key = h_sprintf("%s[%s]", prefix, k);
    form_add_value(f, key, v);
    free(key);
  }
}

const char *h_stripe_form_text(const struct h_stripe_form *f) {
  return f != NULL && f->data != NULL ? f->data : "";
}

void h_stripe_form_free(struct h_stripe_form *f) {
  free(f->data);
  memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------------ result mapping */

h_result h_stripe_map_status(long status, const char *error_type, bool timed_out) {
  if (status >= 200 && status < 300) {
    return H_OK;
  }
  if (status == 0) {
    return timed_out ? H_ERR_TIMEOUT : H_ERR_UNAVAILABLE;
  }
  switch (status) {
  case 400:
    return error_type != NULL && strcmp(error_type, "idempotency_error") == 0 ? H_ERR_CONFLICT
                                                                              : H_ERR_INVALID;
  case 402:
    return H_ERR_PAYMENT;
  case 404:
    return H_ERR_NOT_FOUND;
  case 409:
    return H_ERR_CONFLICT;
  case 429:
    return H_ERR_RATE_LIMITED;
  default:
    return H_ERR_UNAVAILABLE; /* 401/403 (our key), 5xx and anything unexpected */
  }
}

bool h_stripe_retryable(long status) {
  return status == 0 || status == 409 || status == 429 || status >= 500;
}

/* ------------------------------------------------------------------ transport */

/* What the headers of one answer say beyond its status and body. */
struct answer {
  int should_retry;     /* -1 absent, 0 false, 1 true (Stripe-Should-Retry) */
  char request_id[64];  /* the provider's Request-Id */
};

/* h_http_header_fn: picks Stripe-Should-Retry and Request-Id. */
static void on_header(const char *name, const char *value, void *ctx) {
  struct answer *a = ctx;
  if (strcasecmp(name, "Stripe-Should-Retry") == 0) {
    a->should_retry = strcasecmp(value, "true") == 0;
  } else if (strcasecmp(name, "Request-Id") == 0) {
    snprintf(a->request_id, sizeof(a->request_id), "%s", value);
  }
}

/* Fills out->error from a Stripe error body. */
static void parse_error(struct h_stripe_response *out) {
  json_t *e = json_object_get(out->body, "error");
  struct {
    const char *key;
    char *dst;
    size_t len;
  } fields[] = {
    {"type", out->error.type, sizeof(out->error.type)},
    {"code", out->error.code, sizeof(out->error.code)},
    {"decline_code", out->error.decline_code, sizeof(out->error.decline_code)},
    {"param", out->error.param, sizeof(out->error.param)},
    {"message", out->error.message, sizeof(out->error.message)},
  };
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    const char *v = json_string_value(json_object_get(e, fields[i].key));
    snprintf(fields[i].dst, fields[i].len, "%s", v != NULL ? v : "");
  }
}

/* The request headers of one call: a NULL-terminated list of owned lines (caller frees
 * with free_headers). */
static char **request_headers(const struct h_stripe_config *cfg, const char *method,
                              const char *idempotency_key) {
  char **h = h_calloc(5, sizeof(*h));
  int n = 0;
  h[n++] = h_sprintf("Authorization: Bearer %s", cfg->secret_key);
  if (cfg->api_version != NULL && cfg->api_version[0] != '\0') {
    h[n++] = h_sprintf("Stripe-Version: %s", cfg->api_version);
  }
  if (strcmp(method, "GET") != 0 && idempotency_key != NULL) {
    h[n++] = h_sprintf("Idempotency-Key: %s", idempotency_key);
  }
  h[n++] = h_strdup("Accept: application/json");
  return h;
}

static void free_headers(char **h) {
  for (int i = 0; h[i] != NULL; i++) {
    free(h[i]);
  }
  free(h);
}

/* One HTTP exchange on this thread's client. Fills out->status (0 on transport
 * failure), out->timed_out and a; resp receives the answer (caller frees it with
 * h_http_response_free). */
static void attempt(const struct h_stripe_config *cfg, const char *method, const char *url,
                    const char *body, char **headers, struct answer *a,
                    struct h_stripe_response *out, struct h_http_response *resp) {
  bool post = strcmp(method, "POST") == 0;
  struct h_http_request rq = {
    .method = method, .url = url, .headers = (const char *const *)headers,
    .body = post ? body : NULL, .body_len = post ? strlen(body) : 0,
    .user_agent = "Herald/0.1 (libcurl)", .timeout_ms = cfg->timeout_ms,
    .connect_timeout_ms = cfg->connect_timeout_ms, .on_header = on_header, .header_ctx = a,
  };
  h_result r = h_http_send(h_http_thread(), &rq, resp);
  out->status = resp->status;
  out->timed_out = r == H_ERR_TIMEOUT;
  if (r != H_OK) {
    h_log(H_LOG_WARNING, NULL, cfg->request_id, "h_stripe_call: %s %s: %s", method, url,
          resp->error);
  }
}

/* Milliseconds to wait before retry number n (1-based), or -1 to give up. */
static long backoff_ms(int n, const struct answer *a, int retry_after_s) {
  if (a->should_retry == 0) {
    return -1;
  }
  if (retry_after_s >= 0) {
    return retry_after_s <= 2 ? retry_after_s * 1000L : -1;
  }
  long base = 250L << (n - 1 < 3 ? n - 1 : 3);
  unsigned char r = 0;
  h_random_bytes_or_abort(&r, 1);
  long ms = base + base * (long)r / 512; /* up to +50% jitter */
  return ms < 2000 ? ms : 2000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Builds the URL; GET forms become the query string. Caller frees. */
static char *build_url(const struct h_stripe_config *cfg, const char *method, const char *path,
                       const struct h_stripe_form *form) {
  size_t blen = strlen(cfg->api_base);
  while (blen > 0 && cfg->api_base[blen - 1] == '/') {
    blen--;
  }
  const char *query = strcmp(method, "GET") == 0 ? h_stripe_form_text(form) : "";
  return h_sprintf("%.*s%s%s%s", (int)blen, cfg->api_base, path, query[0] != '\0' ? "?" : "",
                   query);
}

h_result h_stripe_call(const struct h_stripe_config *cfg, const char *method, const char *path,
                       const struct h_stripe_form *form, const char *idempotency_key,
                       struct h_stripe_response *out) {
  memset(out, 0, sizeof(*out));
  char *url = build_url(cfg, method, path, form);
  char **headers = request_headers(cfg, method, idempotency_key);
  bool may_retry = strcmp(method, "GET") == 0 || idempotency_key != NULL;
  struct answer a;
  for (;;) {
    memset(&a, 0, sizeof(a));
    a.should_retry = -1;
    out->attempts++;
    struct h_http_response resp;
    attempt(cfg, method, url, h_stripe_form_text(form), headers, &a, out, &resp);
    json_decref(out->body);
    out->body = resp.body_len > 0 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    h_http_response_free(&resp);
    bool ok = out->status >= 200 && out->status < 300;
    long wait = -1;
    if (!ok && may_retry && out->attempts <= cfg->max_retries &&
        (h_stripe_retryable(out->status) || a.should_retry == 1)) {
      wait = backoff_ms(out->attempts, &a, resp.retry_after_s);
    }
    if (wait < 0) {
      break;
    }
    h_log(H_LOG_WARNING, NULL, cfg->request_id, "h_stripe_call: %s %s got %ld; retry %d in %ld ms",
          method, path, out->status, out->attempts, wait);
    sleep_ms(wait);
  }
  if (out->status < 200 || out->status >= 300) {
    parse_error(out);
  }
  h_log(H_LOG_DEBUG, NULL, cfg->request_id, "stripe %s %s -> %ld (%d attempt(s), %s)", method,
        path, out->status, out->attempts, a.request_id[0] != '\0' ? a.request_id : "-");
  free_headers(headers);
  free(url);
  return h_stripe_map_status(out->status, out->error.type[0] != '\0' ? out->error.type : NULL,
                             out->timed_out);
}

void h_stripe_response_free(struct h_stripe_response *r) {
  json_decref(r->body);
  r->body = NULL;
}

/* ------------------------------------------------------------------ webhook signatures */

/* Hex HMAC-SHA256 of "t.payload" into out[65]. */
static void signature_hex(const char *secret, const char *t, size_t tlen, const void *payload,
                          size_t len, char out[65]) {
  char *msg = h_malloc(tlen + 1 + len);
  memcpy(msg, t, tlen);
  msg[tlen] = '.';
  memcpy(msg + tlen + 1, payload, len);
  unsigned char mac[32];
  h_hmac_sha256(secret, strlen(secret), msg, tlen + 1 + len, mac);
  h_hex_encode(mac, sizeof(mac), out);
  free(msg);
}

void h_stripe_sign(const char *secret, long t, const void *payload, size_t len, char *out,
                   size_t outlen) {
  char ts[32], hex[65];
  int tlen = snprintf(ts, sizeof(ts), "%ld", t);
  signature_hex(secret, ts, (size_t)tlen, payload, len, hex);
  snprintf(out, outlen, "t=%s,v1=%s", ts, hex);
}

/* Finds the t= item; returns false when missing or not all digits. */
static bool header_timestamp(const char *header, const char **t, size_t *tlen, long *value) {
  for (const char *p = header; *p != '\0';) {
    size_t n = strcspn(p, ",");
    if (n > 2 && p[0] == 't' && p[1] == '=') {
      *t = p + 2;
      *tlen = n - 2;
      if (*tlen > 18 || strspn(*t, "0123456789") < *tlen) {
        return false;
      }
      *value = strtol(*t, NULL, 10);
      return true;
    }
    p += n + (p[n] == ',' ? 1 : 0);
  }
  return false;
}

h_result h_stripe_verify_signature(const char *header, const void *payload, size_t len,
                                   const char *secret, long tolerance_s, long now,
                                   const char **why) {
  const char *dummy = NULL;
  const char **reason = why != NULL ? why : &dummy;
  const char *t = NULL;
  size_t tlen = 0;
  long ts = 0;
  if (header == NULL || header[0] == '\0' || secret == NULL || secret[0] == '\0') {
    *reason = "missing_signature";
    return H_ERR_INVALID;
  }
  if (!header_timestamp(header, &t, &tlen, &ts)) {
    *reason = "malformed_signature";
    return H_ERR_INVALID;
  }
  if (ts < now - tolerance_s || ts > now + tolerance_s) {
    *reason = "timestamp_outside_tolerance";
    return H_ERR_INVALID;
  }
  char expected[65];
  signature_hex(secret, t, tlen, payload, len, expected);
  bool match = false;
  for (const char *p = header; *p != '\0';) {
    size_t n = strcspn(p, ",");
    if (n > 3 && strncmp(p, "v1=", 3) == 0) {
      match |= h_consttime_eq(p + 3, n - 3, expected, 64);
    }
    p += n + (p[n] == ',' ? 1 : 0);
  }
  *reason = match ? NULL : "no_matching_signature";
  return match ? H_OK : H_ERR_INVALID;
}

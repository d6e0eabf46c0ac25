/* stripe.c - Stripe requests over libcurl (one handle per thread) and webhook
 * signature checks. */
#include "payments/stripe/stripe.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "core/log.h"

/* ------------------------------------------------------------------ form bodies */

char *h_stripe_escape(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = h_malloc(3 * n + 1);
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      out[j++] = (char)c;
    } else {
      out[j++] = '%';
      out[j++] = hex[c >> 4];
      out[j++] = hex[c & 0x0f];
    }
  }
  out[j] = '\0';
  return out;
}

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key;

static void curl_handle_free(void *handle) { curl_easy_cleanup(handle); }

static void curl_setup(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pthread_key_create(&curl_key, curl_handle_free);
}

/* This thread's handle, reset for a new request; owned by the thread. */
static CURL *thread_handle(void) {
  pthread_once(&curl_once, curl_setup);
  CURL *c = pthread_getspecific(curl_key);
  if (c == NULL) {
    c = curl_easy_init();
    pthread_setspecific(curl_key, c);
  } else {
    curl_easy_reset(c);
  }
  return c;
}

struct answer {
  char *body; /* owned */
  size_t len;
  long retry_after_s;   /* -1 when absent */
  int should_retry;     /* -1 absent, 0 false, 1 true (Stripe-Should-Retry) */
  char request_id[64];  /* the provider's Request-Id */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct answer *a = userdata;
  size_t n = size * nmemb;
  a->body = h_realloc(a->body, a->len + n + 1);
  memcpy(a->body + a->len, ptr, n);
  a->len += n;
  a->body[a->len] = '\0';
  return n;
}

/* Copies the trimmed value of header line into out when its name matches. */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t outlen) {
  size_t nl = strlen(name);
  if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') {
    return false;
  }
  const char *v = line + nl + 1;
  size_t vlen = n - nl - 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    vlen--;
  }
  while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
    vlen--;
  }
  snprintf(out, outlen, "%.*s", (int)(vlen < outlen ? vlen : outlen - 1), v);
  return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata) {
  struct answer *a = userdata;
  size_t n = size * nmemb;
  char value[64];
  if (header_value(line, n, "Retry-After", value, sizeof(value))) {
    a->retry_after_s = strtol(value, NULL, 10);
  } else if (header_value(line, n, "Stripe-Should-Retry", value, sizeof(value))) {
    a->should_retry = strcasecmp(value, "true") == 0;
  } else {
    header_value(line, n, "Request-Id", a->request_id, sizeof(a->request_id));
  }
  return n;
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

/* The request headers of one call (caller frees the list). */
static struct curl_slist *request_headers(const struct h_stripe_config *cfg, const char *method,
                                          const char *idempotency_key) {
  char line[512];
  struct curl_slist *h = NULL;
  snprintf(line, sizeof(line), "Authorization: Bearer %s", cfg->secret_key);
  h = curl_slist_append(h, line);
  if (cfg->api_version != NULL && cfg->api_version[0] != '\0') {
    snprintf(line, sizeof(line), "Stripe-Version: %s", cfg->api_version);
    h = curl_slist_append(h, line);
  }
  if (strcmp(method, "GET") != 0 && idempotency_key != NULL) {
    snprintf(line, sizeof(line), "Idempotency-Key: %s", idempotency_key);
    h = curl_slist_append(h, line);
  }
  h = curl_slist_append(h, "Accept: application/json");
  h = curl_slist_append(h, "Expect:");
  return h;
}

/* One HTTP exchange. Fills out->status (0 on transport failure) and a. */
static void attempt(const struct h_stripe_config *cfg, const char *method, const char *url,
                    const char *body, struct curl_slist *headers, struct answer *a,
                    struct h_stripe_response *out) {
  CURL *c = thread_handle();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Herald/0.1 (libcurl)");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  CURLcode rc = curl_easy_perform(c);
  out->status = 0;
  out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  } else {
    h_log(H_LOG_WARNING, NULL, cfg->request_id, "h_stripe_call: %s %s: %s", method, url,
          curl_easy_strerror(rc));
  }
}

/* Milliseconds to wait before retry number n (1-based), or -1 to give up. */
static long backoff_ms(int n, const struct answer *a) {
  if (a->should_retry == 0) {
    return -1;
  }
  if (a->retry_after_s >= 0) {
    return a->retry_after_s <= 2 ? a->retry_after_s * 1000 : -1;
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
  struct curl_slist *headers = request_headers(cfg, method, idempotency_key);
  bool may_retry = strcmp(method, "GET") == 0 || idempotency_key != NULL;
  struct answer a;
  for (;;) {
    memset(&a, 0, sizeof(a));
    a.retry_after_s = -1;
    a.should_retry = -1;
    out->attempts++;
    attempt(cfg, method, url, h_stripe_form_text(form), headers, &a, out);
    json_decref(out->body);
    out->body = a.body != NULL ? json_loadb(a.body, a.len, 0, NULL) : NULL;
    free(a.body);
    bool ok = out->status >= 200 && out->status < 300;
    long wait = -1;
    if (!ok && may_retry && out->attempts <= cfg->max_retries &&
        (h_stripe_retryable(out->status) || a.should_retry == 1)) {
      wait = backoff_ms(out->attempts, &a);
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
  curl_slist_free_all(headers);
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

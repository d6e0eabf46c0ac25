/* http_client.c - libcurl easy handles for provider calls. */
#include "net/http_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

struct h_http {
  CURL *curl;
  int timeout_ms;
  int connect_timeout_ms;
};

struct h_http *h_http_create(int timeout_ms, int connect_timeout_ms) {
  struct h_http *h = h_calloc(1, sizeof(*h));
  h->curl = curl_easy_init();
  h->timeout_ms = timeout_ms;
  h->connect_timeout_ms = connect_timeout_ms;
  return h;
}

void h_http_destroy(struct h_http *h) {
  if (h != NULL) {
    curl_easy_cleanup(h->curl);
    free(h);
  }
}

void h_http_response_free(struct h_http_response *r) {
  free(r->body);
  r->body = NULL;
  r->body_len = 0;
}

/* libcurl write callback: appends to the response body. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct h_http_response *r = userdata;
  size_t n = size * nmemb;
  r->body = h_realloc(r->body, r->body_len + n + 1);
  memcpy(r->body + r->body_len, ptr, n);
  r->body_len += n;
  r->body[r->body_len] = '\0';
  return n;
}

/* libcurl header callback: picks Retry-After. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct h_http_response *r = userdata;
  size_t n = size * nmemb;
  static const char name[] = "retry-after:";
  if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
    char value[128];
    size_t len = n - (sizeof(name) - 1);
    len = len < sizeof(value) - 1 ? len : sizeof(value) - 1;
    memcpy(value, ptr + sizeof(name) - 1, len);
    value[len] = '\0';
    r->retry_after_s = h_http_parse_retry_after(value, time(NULL));
  }
  return n;
}

static void set_request(struct h_http *h, const struct h_http_request *rq,
                        struct curl_slist *headers, struct h_http_response *out) {
  CURL *c = h->curl;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, rq->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (rq->body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)rq->body_len);
  }
  if (rq->basic_user != NULL) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, rq->basic_user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, rq->basic_password ? rq->basic_password : "");
  }
}

h_result h_http_send(struct h_http *h, const struct h_http_request *rq,
                     struct h_http_response *out) {
  memset(out, 0, sizeof(*out));
  out->retry_after_s = -1;
  struct curl_slist *headers = NULL;
  for (int i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
    headers = curl_slist_append(headers, rq->headers[i]);
  }
  headers = curl_slist_append(headers, "Expect:");
  set_request(h, rq, headers, out);
  CURLcode rc = curl_easy_perform(h->curl);
  curl_slist_free_all(headers);
  if (out->body == NULL) {
    out->body = h_strdup("");
  }
  if (rc != CURLE_OK) {
    snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
    out->status = 0;
    return rc == CURLE_OPERATION_TIMEDOUT ? H_ERR_TIMEOUT : H_ERR_UNAVAILABLE;
  }
  curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
  return H_OK;
}

int h_http_parse_retry_after(const char *value, time_t now) {
  while (*value == ' ' || *value == '\t') {
    value++;
  }
  if (isdigit((unsigned char)*value)) {
    char *end = NULL;
    long s = strtol(value, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') {
      end++;
    }
    return *end == '\0' && s >= 0 && s <= 86400 * 7 ? (int)s : -1;
  }
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == NULL) {
    return -1;
  }
  time_t at = timegm(&tm);
  long delta = (long)(at - now);
  return delta < 0 ? 0 : delta > 86400L * 7 ? -1 : (int)delta;
}

char *h_http_escape(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = h_malloc(n * 3 + 1);
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

char *h_http_form_encode(const char *const *pairs) {
  size_t cap = 256, len = 0;
  char *out = h_malloc(cap);
  out[0] = '\0';
  for (int i = 0; pairs[i] != NULL; i += 2) {
    if (pairs[i + 1] == NULL) {
      continue;
    }
    char *k = h_http_escape(pairs[i]);
    char *v = h_http_escape(pairs[i + 1]);
    size_t need = len + strlen(k) + strlen(v) + 3;
    if (need > cap) {
      cap = need * 2;
      out = h_realloc(out, cap);
    }
    len += (size_t)sprintf(out + len, "%s%s=%s", len > 0 ? "&" : "", k, v);
    free(k);
    free(v);
  }
  return out;
}

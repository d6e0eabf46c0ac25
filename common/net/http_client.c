/* http_client.c - libcurl easy handles for every outgoing HTTP call, a multi handle
 * for several at once, and the Retry-After parser. */
#include "net/http_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
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

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;

static void thread_client_free(void *h) { h_http_destroy(h); }

static void thread_setup(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pthread_key_create(&thread_key, thread_client_free);
}

struct h_http *h_http_thread(void) {
  pthread_once(&thread_once, thread_setup);
  struct h_http *h = pthread_getspecific(thread_key);
  if (h == NULL) {
    h = h_http_create(30000, 10000);
    pthread_setspecific(thread_key, h);
  }
  return h;
}

void h_http_response_free(struct h_http_response *r) {
  free(r->body);
  r->body = NULL;
  r->body_len = 0;
}

/* What the libcurl callbacks of one request write to. */
struct exchange {
  const struct h_http_request *rq;
  struct h_http_response *out;
  bool too_big;
  bool refused;   /* allow_address said no */
};

/* libcurl write callback: appends to the response body, up to the request's bound. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct exchange *x = userdata;
  struct h_http_response *r = x->out;
  size_t n = size * nmemb;
  size_t max = x->rq->max_body > 0 ? x->rq->max_body : H_HTTP_MAX_BODY;
  if (r->body_len + n > max) {
    x->too_big = true;
    return 0; /* libcurl stops with CURLE_WRITE_ERROR */
  }
  r->body = h_realloc(r->body, r->body_len + n + 1);
  memcpy(r->body + r->body_len, ptr, n);
  r->body_len += n;
  r->body[r->body_len] = '\0';
  return n;
}

/* libcurl header callback: Retry-After is parsed here, other headers go to the
 * request's on_header. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct exchange *x = userdata;
  size_t n = size * nmemb;
  const char *colon = memchr(ptr, ':', n);
  if (colon == NULL || colon == ptr) {
    return n; /* the status line or the blank line ending the headers */
  }
  char name[64], value[512];
  size_t nlen = (size_t)(colon - ptr);
  const char *v = colon + 1;
  size_t vlen = n - nlen - 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    vlen--;
  }
  while (vlen > 0 && strchr(" \t\r\n", v[vlen - 1]) != NULL) {
    vlen--;
  }
  if (nlen >= sizeof(name) || vlen >= sizeof(value)) {
    return n; /* longer than any header we read */
  }
  memcpy(name, ptr, nlen);
  name[nlen] = '\0';
  memcpy(value, v, vlen);
  value[vlen] = '\0';
  if (strcasecmp(name, "Retry-After") == 0) {
    x->out->retry_after_s = h_http_parse_retry_after(value, time(NULL));
  } else if (x->rq->on_header != NULL) {
    x->rq->on_header(name, value, x->rq->header_ctx);
  }
  return n;
}

/* libcurl open-socket callback of requests with allow_address: refuses the connection
 * when the request's check says no. */
static curl_socket_t open_checked(void *ctx, curlsocktype purpose, struct curl_sockaddr *a) {
  struct exchange *x = ctx;
  if (purpose != CURLSOCKTYPE_IPCXN || !x->rq->allow_address(&a->addr, x->rq->address_ctx)) {
    x->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(a->family, a->socktype, a->protocol);
}

/* The settings of requests that go where a user said (see h_http_request.resolve). */
static void set_guarded(CURL *c, const struct h_http_request *rq, struct curl_slist *resolve,
                        struct exchange *x) {
  if (resolve != NULL) {
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  }
  if (rq->allow_address != NULL) {
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
  }
}

static void set_request(CURL *c, long timeout_ms, long connect_timeout_ms,
                        const struct h_http_request *rq, struct curl_slist *headers,
                        struct exchange *x) {
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, rq->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms > 0
                                                     ? rq->connect_timeout_ms
                                                     : connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  if (rq->user_agent != NULL) {
    curl_easy_setopt(c, CURLOPT_USERAGENT, rq->user_agent);
  }
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

/* One request on its way: what its handle points at until it ends. */
struct transfer {
  struct exchange x;
  struct curl_slist *headers;
  struct curl_slist *resolve;
};

/* Sets c up for rq (out cleared), with the timeouts used when rq names none. */
static void transfer_start(struct transfer *tr, CURL *c, long timeout_ms,
                           long connect_timeout_ms, const struct h_http_request *rq,
                           struct h_http_response *out) {
  memset(out, 0, sizeof(*out));
  out->retry_after_s = -1;
  tr->headers = NULL;
  for (int i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
    tr->headers = curl_slist_append(tr->headers, rq->headers[i]);
  }
  tr->headers = curl_slist_append(tr->headers, "Expect:");
  tr->x = (struct exchange){rq, out, false, false};
  set_request(c, timeout_ms, connect_timeout_ms, rq, tr->headers, &tr->x);
  tr->resolve = rq->resolve != NULL ? curl_slist_append(NULL, rq->resolve) : NULL;
  set_guarded(c, rq, tr->resolve, &tr->x);
}

/* Fills the response of a transfer that ended with rc on c and frees what it held;
 * the result h_http_send documents. */
static h_result transfer_end(struct transfer *tr, CURL *c, CURLcode rc) {
  struct h_http_response *out = tr->x.out;
  curl_slist_free_all(tr->headers);
  curl_slist_free_all(tr->resolve);
  tr->headers = tr->resolve = NULL;
  if (out->body == NULL) {
    out->body = h_strdup("");
  }
  curl_off_t us = 0;
  if (curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK) {
    out->elapsed_ms = (double)us / 1000.0;
  }
  if (rc != CURLE_OK) {
    snprintf(out->error, sizeof(out->error), "%s",
             tr->x.too_big   ? "response body too large"
             : tr->x.refused ? "connection refused by the address check"
                             : curl_easy_strerror(rc));
    out->status = 0;
    return rc == CURLE_OPERATION_TIMEDOUT ? H_ERR_TIMEOUT : H_ERR_UNAVAILABLE;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  return H_OK;
}

h_result h_http_send(struct h_http *h, const struct h_http_request *rq,
                     struct h_http_response *out) {
  struct transfer tr;
  transfer_start(&tr, h->curl, h->timeout_ms, h->connect_timeout_ms, rq, out);
  return transfer_end(&tr, h->curl, curl_easy_perform(h->curl));
}

/* ---- several requests at once ---- */

struct h_http_multi {
  CURLM *multi;            /* holds the connections kept alive between calls */
  CURL **easy;             /* [max_parallel], created on first use */
  int max_parallel;
  int timeout_ms;
  int connect_timeout_ms;
};

struct h_http_multi *h_http_multi_create(int timeout_ms, int connect_timeout_ms,
                                         int max_parallel) {
  struct h_http_multi *m = h_calloc(1, sizeof(*m));
  m->multi = curl_multi_init();
  m->max_parallel = max_parallel > 0 ? max_parallel : 1;
  m->easy = h_calloc((size_t)m->max_parallel, sizeof(*m->easy));
  m->timeout_ms = timeout_ms;
  m->connect_timeout_ms = connect_timeout_ms;
  curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)m->max_parallel);
  return m;
}

void h_http_multi_destroy(struct h_http_multi *m) {
  if (m == NULL) {
    return;
  }
  for (int s = 0; s < m->max_parallel; s++) {
    if (m->easy[s] != NULL) {
      curl_easy_cleanup(m->easy[s]);
    }
  }
  curl_multi_cleanup(m->multi);
  free(m->easy);
  free(m);
}

int h_http_multi_parallel(const struct h_http_multi *m) { return m->max_parallel; }

/* Starts request i on the free handle of slot s; false (the request ended, results[i]
 * set) when the multi handle would not take it. */
static bool multi_start(struct h_http_multi *m, int s, size_t i, struct transfer *tr,
                        const struct h_http_request *rq, struct h_http_response *out,
                        h_result *results) {
  if (m->easy[s] == NULL) {
    m->easy[s] = curl_easy_init();
  }
  CURL *c = m->easy[s];
  transfer_start(&tr[i], c, m->timeout_ms, m->connect_timeout_ms, &rq[i], &out[i]);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)&tr[i]);
  CURLMcode mc = curl_multi_add_handle(m->multi, c);
  if (mc != CURLM_OK) {
    results[i] = transfer_end(&tr[i], c, CURLE_FAILED_INIT);
    snprintf(out[i].error, sizeof(out[i].error), "%s", curl_multi_strerror(mc));
    return false;
  }
  return true;
}

void h_http_send_all(struct h_http_multi *m, const struct h_http_request *rq, size_t n,
                     struct h_http_response *out, h_result *results) {
  struct transfer *tr = h_calloc(n > 0 ? n : 1, sizeof(*tr));
  bool *busy = h_calloc((size_t)m->max_parallel, sizeof(*busy));
  size_t next = 0, done = 0;
  while (done < n) {
    for (int s = 0; s < m->max_parallel && next < n; s++) {
      if (!busy[s]) {
        busy[s] = multi_start(m, s, next, tr, rq, out, results);
        done += busy[s] ? 0 : 1;
        next++;
      }
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(m->multi, &running);
    bool ended = false;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      CURL *c = msg->easy_handle;
      char *priv = NULL;
      curl_easy_getinfo(c, CURLINFO_PRIVATE, &priv);
      struct transfer *t = (struct transfer *)(void *)priv;
      size_t i = (size_t)(t - tr);
      results[i] = transfer_end(t, c, msg->data.result);
      curl_multi_remove_handle(m->multi, c);
      for (int s = 0; s < m->max_parallel; s++) {
        busy[s] = busy[s] && m->easy[s] != c;
      }
      done++;
      ended = true;
    }
    if (mc != CURLM_OK) { /* the multi handle itself failed: end what it holds */
      for (int s = 0; s < m->max_parallel; s++) {
        if (busy[s]) {
          char *priv = NULL;
          curl_easy_getinfo(m->easy[s], CURLINFO_PRIVATE, &priv);
          struct transfer *t = (struct transfer *)(void *)priv;
          curl_multi_remove_handle(m->multi, m->easy[s]);
          results[t - tr] = transfer_end(t, m->easy[s], CURLE_SEND_ERROR);
          snprintf(out[t - tr].error, sizeof(out[0].error), "%s", curl_multi_strerror(mc));
          busy[s] = false;
          done++;
        }
      }
      continue;
    }
    if (!ended && running > 0) {
      curl_multi_poll(m->multi, NULL, 0, 100, NULL);
    }
  }
  free(busy);
  free(tr);
}

/* ---- Retry-After (RFC 9110 5.6.7 HTTP-date, 10.2.3 Retry-After) ---- */

static const char *const day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
static const char month_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* Reads n decimal digits at s into *v. */
static bool digits(const char *s, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) {
      return false;
    }
    *v = *v * 10 + (s[i] - '0');
  }
  return true;
}

/* The month (0-11) named by the three letters at s, or -1. */
static int month_of(const char *s) {
  for (int i = 0; i < 12; i++) {
    if (strncmp(s, month_names + 3 * i, 3) == 0) {
      return i;
    }
  }
  return -1;
}

/* Whether s starts with a day name: its three-letter form, or (full) the whole name;
 * *len receives the length matched. */
static bool day_name(const char *s, bool full, size_t *len) {
  for (int i = 0; i < 7; i++) {
    size_t n = full ? strlen(day_names[i]) : 3;
    if (strncmp(s, day_names[i], n) == 0) {
      *len = n;
      return true;
    }
  }
  return false;
}

/* "HH:MM:SS" at s into tm. */
static bool clock_of(const char *s, struct tm *tm) {
  return digits(s, 2, &tm->tm_hour) && s[2] == ':' && digits(s + 3, 2, &tm->tm_min) &&
         s[5] == ':' && digits(s + 6, 2, &tm->tm_sec);
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
static bool imf_fixdate(const char *s, struct tm *tm) {
  size_t k;
  return strlen(s) == 29 && day_name(s, false, &k) && strncmp(s + 3, ", ", 2) == 0 &&
         digits(s + 5, 2, &tm->tm_mday) && s[7] == ' ' && (tm->tm_mon = month_of(s + 8)) >= 0 &&
         s[11] == ' ' && digits(s + 12, 4, &tm->tm_year) && s[16] == ' ' &&
         clock_of(s + 17, tm) && strcmp(s + 25, " GMT") == 0;
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years
 * ahead of now_year is taken in the previous century. */
static bool rfc850_date(const char *s, struct tm *tm, int now_year) {
  size_t k;
  if (!day_name(s, true, &k) || strncmp(s + k, ", ", 2) != 0) {
    return false;
  }
  const char *r = s + k + 2;
  int yy;
  if (strlen(r) != 22 || !digits(r, 2, &tm->tm_mday) || r[2] != '-' ||
      (tm->tm_mon = month_of(r + 3)) < 0 || r[6] != '-' || !digits(r + 7, 2, &yy) ||
      r[9] != ' ' || !clock_of(r + 10, tm) || strcmp(r + 18, " GMT") != 0) {
    return false;
  }
  tm->tm_year = now_year / 100 * 100 + yy;
  if (tm->tm_year > now_year + 50) {
    tm->tm_year -= 100;
  }
  return true;
}

/* asctime: "Sun Nov  6 08:49:37 1994". */
static bool asctime_date(const char *s, struct tm *tm) {
  size_t k;
  if (strlen(s) != 24) {
    return false;
  }
  bool day = s[8] == ' ' ? digits(s + 9, 1, &tm->tm_mday) : digits(s + 8, 2, &tm->tm_mday);
  return day_name(s, false, &k) && s[3] == ' ' &&
         (tm->tm_mon = month_of(s + 4)) >= 0 && s[7] == ' ' && day && s[10] == ' ' &&
         clock_of(s + 11, tm) && s[19] == ' ' && digits(s + 20, 4, &tm->tm_year);
}

/* An HTTP-date in any of its three forms into *at. */
static bool http_date(const char *s, time_t now, time_t *at) {
  struct tm tm, today;
  memset(&tm, 0, sizeof(tm));
  gmtime_r(&now, &today);
  if (!imf_fixdate(s, &tm) && !rfc850_date(s, &tm, today.tm_year + 1900) &&
      !asctime_date(s, &tm)) {
    return false;
  }
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60 || tm.tm_year < 1900) {
    return false;
  }
  tm.tm_year -= 1900;
  *at = timegm(&tm);
  return *at != (time_t)-1;
}

int h_http_parse_retry_after(const char *value, time_t now) {
  char v[64];
  while (*value == ' ' || *value == '\t') {
    value++;
  }
  size_t n = strlen(value);
  while (n > 0 && strchr(" \t\r\n", value[n - 1]) != NULL) {
    n--;
  }
  if (n == 0 || n >= sizeof(v)) {
    return -1;
  }
  memcpy(v, value, n);
  v[n] = '\0';
  if (strspn(v, "0123456789") == n) {
    long s = 0;
    for (size_t i = 0; i < n && s < H_HTTP_RETRY_AFTER_MAX; i++) {
      s = s * 10 + (v[i] - '0');
    }
    return s < H_HTTP_RETRY_AFTER_MAX ? (int)s : H_HTTP_RETRY_AFTER_MAX;
  }
  time_t at;
  if (!http_date(v, now, &at)) {
    return -1;
  }
  double delta = difftime(at, now);
  return delta <= 0 ? 0 : delta >= H_HTTP_RETRY_AFTER_MAX ? H_HTTP_RETRY_AFTER_MAX : (int)delta;
}

char *h_http_escape(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = h_malloc(n * 3 + 1);
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
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

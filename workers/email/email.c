/* email.c - herald-email's providers `smtp` (libcurl: plain, STARTTLS or TLS,
 * optional AUTH) and `file` (.eml files in HERALD_EMAIL_OUTBOX_DIR), which send the
 * message h_email_render() builds, and the factory of the whole ordered set (the HTTP
 * API providers are in email_api.c). */
#include "email.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "net/http_client.h"
#include "core/log.h"
#include "html.h"
#include "mime.h"
#include "crypto/unsubscribe.h"

/* True when category is one of HERALD_EMAIL_TRANSACTIONAL_CATEGORIES. */
static bool transactional(const struct h_config *cfg, const char *category) {
  const char *p = cfg->email_transactional_categories;
  size_t len = category != NULL ? strlen(category) : 0;
  while (len > 0 && *p != '\0') {
    p += strspn(p, ", ");
    size_t n = strcspn(p, ",");
    while (n > 0 && p[n - 1] == ' ') {
      n--;
    }
    if (n == len && strncmp(p, category, n) == 0) {
      return true;
    }
    p += strcspn(p, ",");
  }
  return false;
}

/* The List-Unsubscribe URL of job (new string) or NULL when its category is transactional;
 * *one_click when it is the signed link of POST /api/v1/unsubscribe (RFC 8058). */
static char *unsubscribe_url(const struct h_config *cfg, const struct h_job *job,
                             bool *one_click) {
  const char *category = job->category;
  *one_click = false;
  if (category == NULL || transactional(cfg, category)) {
    return NULL;
  }
  if (cfg->email_unsubscribe_url[0] == '\0' && job->user_id[0] != '\0') {
    char *signed_url = h_unsubscribe_url(cfg, job->user_id, category);
    if (signed_url != NULL) {
      *one_click = true;
      return signed_url;
    }
  }
  char *tmpl = cfg->email_unsubscribe_url[0] != '\0'
                   ? h_strdup(cfg->email_unsubscribe_url)
                   : h_sprintf("%s/settings/notifications?category={category}", cfg->public_url);
  char *escaped = h_http_escape(category);
  char *at = strstr(tmpl, "{category}");
  char *url = at == NULL ? h_strdup(tmpl)
                         : h_sprintf("%.*s%s%s", (int)(at - tmpl), tmpl, escaped, at + 10);
  free(escaped);
  free(tmpl);
  return url;
}

void h_email_parts(const struct email_shared *sh, const struct h_job *job,
                   struct h_email_parts *out) {
  memset(out, 0, sizeof(*out));
  out->unsubscribe = unsubscribe_url(sh->cfg, job, &out->one_click);
  out->subject = job->title != NULL ? job->title : "Notification";
  out->text = job->body;
  if (job->html == NULL) { /* no HTML template: the text, as HTML */
    struct h_email_html page = {
      .title = out->subject,
      .text = job->body,
      .product = sh->cfg->product_name,
      .action_url = job->action_url,
      .unsubscribe_url = out->unsubscribe,
    };
    out->html_owned = h_email_html_render(&page);
  }
  out->html = job->html != NULL ? job->html : out->html_owned;
}

void h_email_parts_free(struct h_email_parts *p) {
  free(p->html_owned);
  free(p->unsubscribe);
  memset(p, 0, sizeof(*p));
}

char *h_email_render(const void *shared_ptr, const struct h_job *job, const char *boundary) {
  const struct email_shared *sh = shared_ptr;
  char message_id[128], delivery_header[80], category_header[128];
  snprintf(message_id, sizeof(message_id), "%s@%s", job->id, sh->domain);
  snprintf(delivery_header, sizeof(delivery_header), "X-Herald-Delivery-Id: %s", job->id);
  snprintf(category_header, sizeof(category_header), "X-Herald-Category: %.64s",
           job->category != NULL ? job->category : "-");
  for (char *p = category_header; *p != '\0'; p++) {
    *p = (*p < 32 || *p > 126) ? '_' : *p; /* categories are ASCII; never let a CR through */
  }
  const char *extra[] = {delivery_header, category_header, NULL};
  struct h_email_parts parts;
  h_email_parts(sh, job, &parts);
  struct h_mime_message m = {
    .from = sh->from,
    .reply_to = sh->reply_to,
    .to_addr = job->email,
    .to_name = job->name,
    .subject = parts.subject,
    .text = parts.text,
    .html = parts.html,
    .message_id = message_id,
    .date = time(NULL),
    .list_unsubscribe = parts.unsubscribe,
    .list_unsubscribe_one_click = parts.one_click,
    .extra_headers = extra,
    .boundary = boundary,
  };
  char *msg = h_mime_build(&m);
  h_email_parts_free(&parts);
  return msg;
}

/* A fresh multipart boundary ("=_" can never occur in quoted-printable output). */
static void new_boundary(char out[48]) {
  unsigned char b[12];
  char hex[25];
  h_random_bytes_or_abort(b, sizeof(b));
  h_hex_encode(b, sizeof(b), hex);
  snprintf(out, 48, "=_herald_%s", hex);
}

bool h_email_recipient_ok(const struct h_job *job, struct h_send_result *out) {
  if (job->email == NULL || job->email[0] == '\0') {
    out->status = H_SEND_SKIP;
    snprintf(out->reason, sizeof(out->reason), "no_email");
    return false;
  }
  if (!h_mime_address_ok(job->email)) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "invalid_email");
    h_send_errorf(out, "the recipient address is not usable");
    return false;
  }
  return true;
}

static void set_message_id(const struct email_shared *sh, const struct h_job *job,
                           struct h_send_result *out) {
  snprintf(out->message_id, sizeof(out->message_id), "<%s@%s>", job->id, sh->domain);
}

/* ---- file provider ---- */

static void file_send(void *shared, void *state, const struct h_job *job,
                      struct h_send_result *out) {
  (void)state;
  struct email_shared *sh = shared;
  if (!h_email_recipient_ok(job, out)) {
    return;
  }
  char boundary[48], name[64];
  new_boundary(boundary);
  char *msg = h_email_render(sh, job, boundary);
  snprintf(name, sizeof(name), "%s.eml", job->id);
  if (h_outbox_send_file(sh->cfg->email_outbox_dir, name, msg, out)) {
    set_message_id(sh, job, out);
  }
  free(msg);
}

char *h_email_summary(void *shared, const struct h_job *job) {
  char boundary[48];
  new_boundary(boundary);
  char *msg = h_email_render(shared, job, boundary);
  char *s = h_sprintf("subject \"%.60s\", %zu bytes, %s", job->title ? job->title : "",
                      strlen(msg), job->html != NULL ? "text+html" : "text");
  free(msg);
  return s;
}

/* ---- smtp provider ---- */

struct smtp_state {
  CURL *curl;
  char last_reply[256]; /* the server's error (or last) reply, for error messages */
};

struct upload {
  const char *data;
  size_t len, pos;
};

static size_t read_upload(char *buf, size_t size, size_t nmemb, void *userdata) {
  struct upload *u = userdata;
  size_t n = size * nmemb;
  n = n < u->len - u->pos ? n : u->len - u->pos;
  memcpy(buf, u->data + u->pos, n);
  u->pos += n;
  return n;
}

/* Keeps the first error reply (4xx/5xx) the server sent in a transaction, or else
 * its last line (CURLINFO_HEADER_IN carries SMTP replies). */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *userdata) {
  (void)c;
  struct smtp_state *st = userdata;
  bool have_error = st->last_reply[0] == '4' || st->last_reply[0] == '5';
  if (type == CURLINFO_HEADER_IN && size > 0 && !have_error) {
    size_t n = size < sizeof(st->last_reply) - 1 ? size : sizeof(st->last_reply) - 1;
    memcpy(st->last_reply, data, n);
    while (n > 0 && (st->last_reply[n - 1] == '\n' || st->last_reply[n - 1] == '\r')) {
      n--;
    }
    st->last_reply[n] = '\0';
  }
  return 0;
}

static void *smtp_open(void *shared) {
  (void)shared;
  struct smtp_state *st = h_calloc(1, sizeof(*st));
  st->curl = curl_easy_init();
  return st;
}

static void smtp_close(void *state) {
  struct smtp_state *st = state;
  if (st != NULL) {
    curl_easy_cleanup(st->curl);
    free(st);
  }
}

static void smtp_options(const struct email_shared *sh, struct smtp_state *st,
                         struct curl_slist *rcpt, struct upload *up) {
  const struct h_config *cfg = sh->cfg;
  CURL *c = st->curl;
  curl_easy_reset(c); /* keeps the open connection */
  curl_easy_setopt(c, CURLOPT_URL, sh->smtp_url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->provider_timeout_ms);
  /* libcurl checks CURLOPT_TIMEOUT_MS only between events while it waits for the
   * final reply to DATA; this bounds that wait too (whole seconds) */
  curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)(cfg->provider_timeout_ms + 999) / 1000);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(cfg->provider_timeout_ms < 5000 ? cfg->provider_timeout_ms : 5000));
  char from[300];
  snprintf(from, sizeof(from), "<%s>", sh->from_addr);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from); /* copied by libcurl */
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, st);
  if (strcmp(cfg->smtp_tls, "starttls") == 0) {
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  }
  if (cfg->smtp_ca_file[0] != '\0') {
    curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
  }
  if (cfg->smtp_user[0] != '\0') {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
  }
}

/* Maps a failed SMTP transaction: 5xx is permanent (but for authentication, a
 * configuration matter); 4xx, timeouts and connection trouble are retried. */
static void smtp_failure(struct smtp_state *st, CURLcode rc, struct h_send_result *out) {
  long code = 0;
  curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
  bool auth = rc == CURLE_LOGIN_DENIED || code == 530 || code == 535;
  out->status = code >= 500 && code < 600 && !auth ? H_SEND_PERMANENT : H_SEND_RETRY;
  if (out->status == H_SEND_PERMANENT) {
    snprintf(out->reason, sizeof(out->reason), "smtp_rejected");
  }
  h_send_errorf(out, "smtp: %s%s%s", curl_easy_strerror(rc), st->last_reply[0] ? ": " : "",
                st->last_reply);
  /* a fresh handle next time: never reuse a connection in an unknown state */
  curl_easy_cleanup(st->curl);
  st->curl = curl_easy_init();
}

static void smtp_send(void *shared, void *state, const struct h_job *job,
                      struct h_send_result *out) {
  struct email_shared *sh = shared;
  struct smtp_state *st = state;
  if (!h_email_recipient_ok(job, out)) {
    return;
  }
  char boundary[48], rcpt_addr[300];
  new_boundary(boundary);
  char *msg = h_email_render(sh, job, boundary);
  snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", job->email);
  struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_addr);
  struct upload up = {msg, strlen(msg), 0};
  st->last_reply[0] = '\0';
  smtp_options(sh, st, rcpt, &up);
  CURLcode rc = curl_easy_perform(st->curl);
  if (rc == CURLE_OK) {
    out->status = H_SEND_OK;
    set_message_id(sh, job, out);
  } else {
    smtp_failure(st, rc, out);
  }
  curl_slist_free_all(rcpt);
  free(msg);
}

void h_email_destroy(void *shared) {
  struct email_shared *sh = shared;
  if (sh != NULL) {
    free(sh->from);
    free(sh->reply_to);
    free(sh->api_url);
    free(sh);
  }
}

static const struct h_provider file_provider = {
  .name = "file", .send = file_send, .render = h_email_summary, .destroy = h_email_destroy,
};
static const struct h_provider smtp_provider = {
  .name = "smtp", .thread_open = smtp_open, .thread_close = smtp_close, .send = smtp_send,
  .render = h_email_summary, .destroy = h_email_destroy,
};

/* Parses HERALD_EMAIL_FROM / HERALD_EMAIL_REPLY_TO into sh. */
static h_result parse_addresses(const struct h_config *cfg, struct email_shared *sh,
                                char **error) {
  if (!h_mime_parse_mailbox(cfg->email_from, sh->from_name, sizeof(sh->from_name), sh->from_addr,
                            sizeof(sh->from_addr))) {
    *error = h_sprintf("HERALD_EMAIL_FROM: '%s' is not an address or Name <address>",
                       cfg->email_from);
    return H_ERR_INVALID;
  }
  sh->from = h_mime_mailbox(sh->from_name, sh->from_addr);
  sh->domain = strrchr(sh->from_addr, '@') + 1;
  if (cfg->email_reply_to[0] != '\0') {
    if (!h_mime_parse_mailbox(cfg->email_reply_to, sh->reply_name, sizeof(sh->reply_name),
                              sh->reply_addr, sizeof(sh->reply_addr))) {
      *error = h_sprintf("HERALD_EMAIL_REPLY_TO: '%s' is not an address or Name <address>",
                         cfg->email_reply_to);
      return H_ERR_INVALID;
    }
    sh->reply_to = h_mime_mailbox(sh->reply_name, sh->reply_addr);
  }
  return H_OK;
}

/* One provider's settings for p into a new email_shared (*out; h_email_destroy frees). */
static h_result setup_one(const struct h_config *cfg, const struct h_provider *p, void **out,
                          char **error) {
  struct email_shared *sh = h_calloc(1, sizeof(*sh));
  sh->cfg = cfg;
  *out = sh;
  h_result r = parse_addresses(cfg, sh, error);
  if (r != H_OK) {
    return r;
  }
  bool tls = strcmp(cfg->smtp_tls, "tls") == 0;
  snprintf(sh->smtp_url, sizeof(sh->smtp_url), "%s://%s:%d", tls ? "smtps" : "smtp",
           cfg->smtp_host, cfg->smtp_port);
  return p == &file_provider || p == &smtp_provider ? H_OK
                                                    : h_email_api_setup(p, cfg, sh, error);
}

h_result h_email_create(const struct h_config *cfg, struct h_provider_set *set, char **error) {
  static const struct h_provider *const all[] = {&file_provider, &smtp_provider,
                                                 &h_email_sendgrid, &h_email_mailgun, NULL};
  static const struct h_provider_catalog catalog = {"HERALD_EMAIL_PROVIDERS", all, setup_one};
  return h_provider_set_build(cfg, cfg->email_providers, cfg->email_provider, &catalog, set,
                              error);
}

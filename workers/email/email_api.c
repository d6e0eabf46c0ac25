/* email_api.c - herald-email's HTTP API providers: `sendgrid` (a SendGrid-v3-style
 * JSON POST to {base}/v3/mail/send with a Bearer key; 202 and X-Message-Id) and
 * `mailgun` (a Mailgun-style form POST to {base}/v3/{domain}/messages with Basic
 * auth api:<key>; 200 and {"id"}). Both carry the delivery id back in their webhooks
 * (SendGrid custom_args, Mailgun v: variables). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "email.h"
#include "mime.h"
#include "net/http_client.h"

/* The base URL without trailing slashes: its length. */
static int base_len(const char *base) {
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/') {
    n--;
  }
  return (int)n;
}

static bool http_url(const char *url) {
  return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* ---- sendgrid ---- */

/* {"email", "name"?} (new reference). */
static json_t *address(const char *addr, const char *name) {
  json_t *a = json_pack("{ss}", "email", addr);
  if (name != NULL && name[0] != '\0') {
    json_object_set_new(a, "name", json_string(name));
  }
  return a;
}

/* The v3 mail/send document of job (new reference). */
static json_t *sendgrid_doc(const struct email_shared *sh, const struct h_job *job,
                            const struct h_email_parts *parts) {
  json_t *content = json_array();
  if (parts->text != NULL && parts->text[0] != '\0') {
    json_array_append_new(content, json_pack("{ssss}", "type", "text/plain", "value", parts->text));
  }
  json_array_append_new(content, json_pack("{ssss}", "type", "text/html", "value", parts->html));
  json_t *headers = json_pack("{ss}", "X-Herald-Delivery-Id", job->id);
  if (parts->unsubscribe != NULL) {
    char *value = h_sprintf("<%s>", parts->unsubscribe);
    json_object_set_new(headers, "List-Unsubscribe", json_string(value));
    free(value);
    if (parts->one_click) {
      json_object_set_new(headers, "List-Unsubscribe-Post",
                          json_string("List-Unsubscribe=One-Click"));
    }
  }
  json_t *doc = json_pack("{s[{s[o]s{ss}}]sosssoso}", "personalizations", "to",
                          address(job->email, job->name), "custom_args", "delivery_id", job->id,
                          "from", address(sh->from_addr, sh->from_name), "subject",
                          parts->subject, "content", content, "headers", headers);
  if (sh->reply_addr[0] != '\0') {
    json_object_set_new(doc, "reply_to", address(sh->reply_addr, sh->reply_name));
  }
  if (job->category != NULL) {
    json_object_set_new(doc, "categories", json_pack("[s]", job->category));
  }
  return doc;
}

/* Keeps X-Message-Id. */
static void on_header(const char *name, const char *value, void *ctx) {
  struct h_send_result *out = ctx;
  if (strcasecmp(name, "X-Message-Id") == 0) {
    snprintf(out->message_id, sizeof(out->message_id), "%s", value);
  }
}

/* The first error message of a v3 error body {"errors":[{"message","field"}]}, or the
 * body's start; into buf. */
static const char *sendgrid_error(const struct h_http_response *resp, char *buf, size_t len) {
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  json_t *first = json_array_get(json_object_get(doc, "errors"), 0);
  const char *msg = json_string_value(json_object_get(first, "message"));
  const char *field = json_string_value(json_object_get(first, "field"));
  if (msg != NULL) {
    snprintf(buf, len, "%s%s%s", msg, field != NULL ? " (field " : "", field != NULL ? field : "");
    if (field != NULL) {
      snprintf(buf + strlen(buf), len - strlen(buf), ")");
    }
  } else {
    snprintf(buf, len, "%.200s", resp->body);
  }
  json_decref(doc);
  return buf;
}

/* The v3 JSON POST of job, with the key as a Bearer token. */
static bool sendgrid_prepare(void *shared, const struct h_job *job, struct h_http_job *x,
                             struct h_send_result *out) {
  struct email_shared *sh = shared;
  if (!h_email_recipient_ok(job, out)) {
    return false;
  }
  struct h_email_parts parts;
  h_email_parts(sh, job, &parts);
  json_t *doc = sendgrid_doc(sh, job, &parts);
  char *body = x->owned[0] = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  h_email_parts_free(&parts);
  x->headers[0] = x->owned[1] = h_sprintf("Authorization: Bearer %s", sh->cfg->sendgrid_api_key);
  x->headers[1] = "Content-Type: application/json";
  *x->rq = (struct h_http_request){.method = "POST", .url = sh->api_url, .headers = x->headers,
                                   .body = body, .body_len = strlen(body),
                                   .on_header = on_header, .header_ctx = out};
  return true;
}

static void sendgrid_answer(void *shared, const struct h_job *job,
                            const struct h_http_response *resp, struct h_send_result *out) {
  (void)shared;
  char detail[300];
  bool ok = resp->status >= 200 && resp->status < 300;
  h_send_http_answer(out, resp->status, resp->retry_after_s,
                     ok ? NULL : sendgrid_error(resp, detail, sizeof(detail)));
  if (ok && out->message_id[0] == '\0') {
    snprintf(out->message_id, sizeof(out->message_id), "sendgrid:%s", job->id);
  }
}

/* ---- mailgun ---- */

/* The "message" of a Mailgun answer, or the body's start; into buf. */
static const char *mailgun_reply(const struct h_http_response *resp, char *id, size_t idlen,
                                  char *buf, size_t len) {
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  const char *msg = json_string_value(json_object_get(doc, "message"));
  const char *mid = json_string_value(json_object_get(doc, "id"));
  snprintf(id, idlen, "%s", mid != NULL ? mid : "");
  snprintf(buf, len, "%.200s", msg != NULL ? msg : resp->body);
  json_decref(doc);
  return buf;
}

/* The form POST of job, with Basic auth api:<key>. */
static bool mailgun_prepare(void *shared, const struct h_job *job, struct h_http_job *x,
                            struct h_send_result *out) {
  struct email_shared *sh = shared;
  if (!h_email_recipient_ok(job, out)) {
    return false;
  }
  struct h_email_parts parts;
  h_email_parts(sh, job, &parts);
  char *to = h_mime_mailbox(job->name, job->email);
  char *unsub = parts.unsubscribe != NULL ? h_sprintf("<%s>", parts.unsubscribe) : NULL;
  const char *pairs[] = {"from", sh->from, "to", to, "subject", parts.subject, "text",
                         parts.text, "html", parts.html, "h:Reply-To", sh->reply_to,
                         "h:X-Herald-Delivery-Id", job->id, "h:List-Unsubscribe", unsub,
                         "h:List-Unsubscribe-Post",
                         parts.one_click ? "List-Unsubscribe=One-Click" : NULL,
                         "v:delivery_id", job->id, "o:tag", job->category, NULL};
  char *form = x->owned[0] = h_http_form_encode(pairs);
  h_email_parts_free(&parts);
  free(unsub);
  free(to);
  x->headers[0] = "Content-Type: application/x-www-form-urlencoded";
  *x->rq = (struct h_http_request){.method = "POST", .url = sh->api_url, .headers = x->headers,
                                   .body = form, .body_len = strlen(form), .basic_user = "api",
                                   .basic_password = sh->cfg->mailgun_api_key};
  return true;
}

static void mailgun_answer(void *shared, const struct h_job *job,
                           const struct h_http_response *resp, struct h_send_result *out) {
  (void)shared;
  (void)job;
  char detail[300], id[256];
  mailgun_reply(resp, id, sizeof(id), detail, sizeof(detail));
  h_send_http_answer(out, resp->status, resp->retry_after_s, detail);
  if (out->status == H_SEND_OK && id[0] == '\0') {
    out->status = H_SEND_RETRY; /* not the API's answer (a proxy?): at least once */
    h_send_errorf(out, "HTTP %ld without a message id: unreadable reply", resp->status);
  }
  snprintf(out->message_id, sizeof(out->message_id), "%s", id);
}

static const struct h_http_job_ops sendgrid_http = {sendgrid_prepare, sendgrid_answer};
static const struct h_http_job_ops mailgun_http = {mailgun_prepare, mailgun_answer};

const struct h_provider h_email_sendgrid = {
  .name = "sendgrid", .render = h_email_summary, .destroy = h_email_destroy,
  .http = &sendgrid_http,
};
const struct h_provider h_email_mailgun = {
  .name = "mailgun", .render = h_email_summary, .destroy = h_email_destroy,
  .http = &mailgun_http,
};

h_result h_email_api_setup(const struct h_provider *p, const struct h_config *cfg,
                           struct email_shared *sh, char **error) {
  if (p == &h_email_sendgrid) {
    if (cfg->sendgrid_api_key[0] == '\0') {
      *error = h_sprintf("HERALD_SENDGRID_API_KEY: required by the sendgrid e-mail provider");
    } else if (!http_url(cfg->sendgrid_base_url)) {
      *error = h_sprintf("HERALD_SENDGRID_BASE_URL: must be an http(s) URL");
    } else {
      sh->api_url = h_sprintf("%.*s/v3/mail/send", base_len(cfg->sendgrid_base_url),
                              cfg->sendgrid_base_url);
    }
  } else if (cfg->mailgun_api_key[0] == '\0') {
    *error = h_sprintf("HERALD_MAILGUN_API_KEY: required by the mailgun e-mail provider");
  } else if (cfg->mailgun_domain[0] == '\0' || strchr(cfg->mailgun_domain, '/') != NULL ||
             strchr(cfg->mailgun_domain, '.') == NULL) {
    *error = h_sprintf("HERALD_MAILGUN_DOMAIN: required by the mailgun e-mail provider: a"
                       " domain name like mg.example.com");
  } else if (!http_url(cfg->mailgun_base_url)) {
    *error = h_sprintf("HERALD_MAILGUN_BASE_URL: must be an http(s) URL");
  } else {
    char *domain = h_http_escape(cfg->mailgun_domain);
    sh->api_url = h_sprintf("%.*s/v3/%s/messages", base_len(cfg->mailgun_base_url),
                            cfg->mailgun_base_url, domain);
    free(domain);
  }
  return *error == NULL ? H_OK : H_ERR_INVALID;
}

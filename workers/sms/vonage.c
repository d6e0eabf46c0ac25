/* vonage.c - herald-sms's `vonage` provider: a Vonage-style SMS API, form POST to
 * {base}/sms/json with api_key and api_secret in the body, answered 200 with one
 * status per message part ("0" accepted; any other code an error whose kind decides
 * between retry and failure). The delivery id goes as client-ref, the receipt URL as
 * callback (HERALD_VONAGE_STATUS_CALLBACK_URL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/http_client.h"
#include "sms.h"

/* True when a status code of the API is worth another try (throttled, internal error,
 * credentials or account trouble, quota): the others describe the message. Pure. */
static bool retryable_code(long code) {
  return code == 1 || code == 4 || code == 5 || code == 8 || code == 9 || code == 14;
}

/* Reads a 200 answer {"messages":[{"status","message-id","error-text"}...]} into out. */
static void vonage_result(const struct h_http_response *resp, struct h_send_result *out) {
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  json_t *first = json_array_get(json_object_get(doc, "messages"), 0);
  const char *status = json_string_value(json_object_get(first, "status"));
  const char *id = json_string_value(json_object_get(first, "message-id"));
  const char *text = json_string_value(json_object_get(first, "error-text"));
  if (status == NULL) {
    out->status = H_SEND_RETRY; /* not the API's answer (a proxy?): at least once */
    h_send_errorf(out, "HTTP %ld without a message status: unreadable reply", resp->status);
  } else if (strcmp(status, "0") == 0 && id != NULL) {
    out->status = H_SEND_OK;
    snprintf(out->message_id, sizeof(out->message_id), "%s", id);
  } else {
    long code = strtol(status, NULL, 10);
    out->status = retryable_code(code) ? H_SEND_RETRY : H_SEND_PERMANENT;
    if (out->status == H_SEND_PERMANENT) {
      snprintf(out->reason, sizeof(out->reason), "provider_rejected");
    }
    h_send_errorf(out, "status %s: %.300s", status, text != NULL ? text : "no detail");
  }
  json_decref(doc);
}

/* The form POST of job (the key and secret in the form). */
static bool vonage_prepare(void *shared, const struct h_job *job, struct h_http_job *x,
                           struct h_send_result *out) {
  struct sms_shared *sh = shared;
  const struct h_config *cfg = sh->cfg;
  const char *text = NULL;
  struct h_sms_segments seg;
  if (!h_sms_message_text(job, &text, &seg, out)) {
    return false;
  }
  const char *from = cfg->vonage_from[0] != '\0' ? cfg->vonage_from : cfg->sms_from;
  const char *callback = cfg->vonage_status_callback_url[0] != '\0'
                             ? cfg->vonage_status_callback_url
                             : NULL;
  const char *pairs[] = {"api_key", cfg->vonage_api_key, "api_secret", cfg->vonage_api_secret,
                         "from", from[0] == '+' ? from + 1 : from, "to", job->phone + 1,
                         "text", text, "type", seg.ucs2 ? "unicode" : "text", "client-ref",
                         job->id, "callback", callback, "status-report-req",
                         callback != NULL ? "1" : NULL, NULL};
  char *form = x->owned[0] = h_http_form_encode(pairs);
  x->headers[0] = "Content-Type: application/x-www-form-urlencoded";
  x->headers[1] = "Accept: application/json";
  *x->rq = (struct h_http_request){.method = "POST", .url = sh->url, .headers = x->headers,
                                   .body = form, .body_len = strlen(form)};
  return true;
}

static void vonage_answer(void *shared, const struct h_job *job,
                          const struct h_http_response *resp, struct h_send_result *out) {
  (void)shared;
  (void)job;
  if (resp->status == 200) {
    vonage_result(resp, out);
    return;
  }
  h_send_http_answer(out, resp->status, resp->retry_after_s, resp->body);
  if (out->status == H_SEND_OK) { /* a 2xx that is not the API's 200 */
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "HTTP %ld: unexpected answer", resp->status);
  }
}

static const struct h_http_job_ops vonage_http = {vonage_prepare, vonage_answer};

const struct h_provider h_sms_vonage = {
  .name = "vonage", .render = h_sms_summary, .destroy = h_sms_destroy, .http = &vonage_http,
};

/* An alphanumeric sender: 1-11 letters and digits. Pure. */
static bool alphanumeric_sender(const char *s) {
  size_t n = strlen(s);
  static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return n >= 1 && n <= 11 && strspn(s, ok) == n;
}

h_result h_sms_vonage_setup(const struct h_config *cfg, struct sms_shared *sh, char **error) {
  const char *from = cfg->vonage_from[0] != '\0' ? cfg->vonage_from : cfg->sms_from;
  if (cfg->vonage_api_key[0] == '\0') {
    *error = h_sprintf("HERALD_VONAGE_API_KEY: required by the vonage SMS provider");
  } else if (cfg->vonage_api_secret[0] == '\0') {
    *error = h_sprintf("HERALD_VONAGE_API_SECRET: required by the vonage SMS provider");
  } else if (!h_sms_e164(from) && !alphanumeric_sender(from)) {
    *error = h_sprintf("HERALD_VONAGE_FROM: must be an E.164 number or 1-11 letters and digits"
                       " (empty: HERALD_SMS_FROM)");
  } else if (strncmp(cfg->vonage_base_url, "http://", 7) != 0 &&
             strncmp(cfg->vonage_base_url, "https://", 8) != 0) {
    *error = h_sprintf("HERALD_VONAGE_BASE_URL: must be an http(s) URL");
  } else {
    size_t n = strlen(cfg->vonage_base_url);
    while (n > 0 && cfg->vonage_base_url[n - 1] == '/') {
      n--;
    }
    sh->url = h_sprintf("%.*s/sms/json", (int)n, cfg->vonage_base_url);
  }
  return *error == NULL ? H_OK : H_ERR_INVALID;
}

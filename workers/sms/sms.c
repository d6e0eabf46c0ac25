/* sms.c - herald-sms's providers `twilio` (a Twilio-compatible HTTP API: form
 * POST to {base}/2010-04-01/Accounts/{sid}/Messages.json with Basic auth) and
 * `file` (JSON files in HERALD_SMS_OUTBOX_DIR), and the factory of the ordered set
 * (vonage is in vonage.c). */
#include "sms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/http_client.h"

bool h_sms_message_text(const struct h_job *job, const char **text, struct h_sms_segments *seg,
                         struct h_send_result *out) {
  if (job->phone == NULL || job->phone[0] == '\0') {
    out->status = H_SEND_SKIP;
    snprintf(out->reason, sizeof(out->reason), "no_phone");
    return false;
  }
  if (!h_sms_e164(job->phone)) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "invalid_phone");
    h_send_errorf(out, "the recipient number is not E.164");
    return false;
  }
  *text = job->body != NULL && job->body[0] != '\0' ? job->body : job->title;
  if (*text == NULL || (*text)[0] == '\0') {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "empty_message");
    h_send_errorf(out, "the notification has neither body nor title");
    return false;
  }
  h_sms_count(*text, seg);
  out->meta = json_pack("{sisssi}", "segments", seg->segments, "encoding",
                        seg->ucs2 ? "UCS-2" : "GSM-7", "units", seg->units);
  return true;
}

/* ---- file provider ---- */

static void file_send(void *shared, void *state, const struct h_job *job,
                      struct h_send_result *out) {
  (void)state;
  struct sms_shared *sh = shared;
  const char *text = NULL;
  struct h_sms_segments seg;
  if (!h_sms_message_text(job, &text, &seg, out)) {
    return;
  }
  json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "delivery_id", job->id, "to",
                          job->phone, "from", sh->cfg->sms_from, "body", text, "encoding",
                          seg.ucs2 ? "UCS-2" : "GSM-7", "segments", seg.segments, "ucs2",
                          seg.ucs2);
  h_outbox_send_json(sh->cfg->sms_outbox_dir, job, doc, out);
  json_decref(doc);
}

char *h_sms_summary(void *shared, const struct h_job *job) {
  (void)shared;
  const char *text = job->body != NULL ? job->body : job->title;
  struct h_sms_segments seg;
  h_sms_count(text, &seg);
  return h_sprintf("%d segment(s) %s, %d %s", seg.segments, seg.ucs2 ? "UCS-2" : "GSM-7",
                   seg.units, seg.ucs2 ? "UTF-16 units" : "septets");
}

/* ---- twilio provider ---- */

/* Reads the provider's answer into out. */
static void twilio_answer(void *shared, const struct h_job *job,
                          const struct h_http_response *resp, struct h_send_result *out) {
  (void)shared;
  (void)job;
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  const char *sid = json_string_value(json_object_get(doc, "sid"));
  const char *message = json_string_value(json_object_get(doc, "message"));
  json_int_t code = json_integer_value(json_object_get(doc, "code"));
  out->retry_after_s = resp->retry_after_s;
  if ((resp->status == 200 || resp->status == 201) && sid != NULL) {
    out->status = H_SEND_OK;
    snprintf(out->message_id, sizeof(out->message_id), "%s", sid);
  } else if (resp->status >= 200 && resp->status < 300) {
    /* not the API's answer (a proxy?): whether it was sent is unknown; at least once */
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "HTTP %ld without a message sid: unreadable reply", resp->status);
  } else if (resp->status == 429 || resp->status >= 500 || resp->status == 401 ||
             resp->status == 403) {
    out->status = H_SEND_RETRY; /* 401/403: credentials to fix, not the message */
    h_send_errorf(out, "HTTP %ld: %s", resp->status, message != NULL ? message : "no detail");
  } else {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "provider_rejected");
    h_send_errorf(out, "HTTP %ld, code %lld: %s", resp->status, (long long)code,
                  message != NULL ? message : "no detail");
  }
  json_decref(doc);
}

/* The form POST of job, with Basic auth. */
static bool twilio_prepare(void *shared, const struct h_job *job, struct h_http_job *x,
                           struct h_send_result *out) {
  struct sms_shared *sh = shared;
  const struct h_config *cfg = sh->cfg;
  const char *text = NULL;
  struct h_sms_segments seg;
  if (!h_sms_message_text(job, &text, &seg, out)) {
    return false;
  }
  bool service = strncmp(cfg->sms_from, "MG", 2) == 0;
  const char *callback = cfg->sms_status_callback_url[0] != '\0' ? cfg->sms_status_callback_url
                                                                 : NULL;
  const char *pairs[] = {"To", job->phone, service ? "MessagingServiceSid" : "From",
                         cfg->sms_from, "Body", text, "StatusCallback", callback, NULL};
  char *form = x->owned[0] = h_http_form_encode(pairs);
  x->headers[0] = "Content-Type: application/x-www-form-urlencoded";
  x->headers[1] = "Accept: application/json";
  *x->rq = (struct h_http_request){.method = "POST", .url = sh->url, .headers = x->headers,
                                   .body = form, .body_len = strlen(form),
                                   .basic_user = cfg->sms_account_sid,
                                   .basic_password = cfg->sms_auth_token};
  return true;
}

static const struct h_http_job_ops twilio_http = {twilio_prepare, twilio_answer};

void h_sms_destroy(void *shared) {
  struct sms_shared *sh = shared;
  if (sh != NULL) {
    free(sh->url);
    free(sh);
  }
}

static const struct h_provider file_provider = {
  .name = "file", .send = file_send, .render = h_sms_summary, .destroy = h_sms_destroy,
};
static const struct h_provider twilio_provider = {
  .name = "twilio", .render = h_sms_summary, .destroy = h_sms_destroy, .http = &twilio_http,
};

/* The settings the twilio provider cannot do without. */
static h_result check_twilio(const struct h_config *cfg, char **error) {
  if (cfg->sms_account_sid[0] == '\0') {
    *error = h_sprintf("HERALD_SMS_ACCOUNT_SID: required by HERALD_SMS_PROVIDER=twilio");
  } else if (cfg->sms_auth_token[0] == '\0') {
    *error = h_sprintf("HERALD_SMS_AUTH_TOKEN: required by HERALD_SMS_PROVIDER=twilio");
  } else if (!h_sms_e164(cfg->sms_from) && strncmp(cfg->sms_from, "MG", 2) != 0) {
    *error = h_sprintf("HERALD_SMS_FROM: must be an E.164 number or a messaging service SID");
  } else if (strncmp(cfg->sms_base_url, "http://", 7) != 0 &&
             strncmp(cfg->sms_base_url, "https://", 8) != 0) {
    *error = h_sprintf("HERALD_SMS_BASE_URL: must be an http(s) URL");
  }
  return *error == NULL ? H_OK : H_ERR_INVALID;
}

/* One provider's settings for p into a new sms_shared (*out; h_sms_destroy frees). */
static h_result setup_one(const struct h_config *cfg, const struct h_provider *p, void **out,
                          char **error) {
  struct sms_shared *sh = h_calloc(1, sizeof(*sh));
  sh->cfg = cfg;
  *out = sh;
  if (p == &h_sms_vonage) {
    return h_sms_vonage_setup(cfg, sh, error);
  }
  if (p == &twilio_provider && check_twilio(cfg, error) != H_OK) {
    return H_ERR_INVALID;
  }
  size_t n = strlen(cfg->sms_base_url);
  while (n > 0 && cfg->sms_base_url[n - 1] == '/') {
    n--;
  }
  char *sid = h_http_escape(cfg->sms_account_sid);
  sh->url = h_sprintf("%.*s/2010-04-01/Accounts/%s/Messages.json", (int)n, cfg->sms_base_url, sid);
  free(sid);
  return H_OK;
}

h_result h_sms_create(const struct h_config *cfg, struct h_provider_set *set, char **error) {
  static const struct h_provider *const all[] = {&file_provider, &twilio_provider, &h_sms_vonage,
                                                 NULL};
  static const struct h_provider_catalog catalog = {"HERALD_SMS_PROVIDERS", all, setup_one};
  return h_provider_set_build(cfg, cfg->sms_providers, cfg->sms_provider, &catalog, set, error);
}

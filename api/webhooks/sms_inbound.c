/* sms_inbound.c - inbound SMS (Twilio's and Vonage's) and Vonage's delivery receipts.
 * Inbound texts are keywords: STOP and START set the sender's SMS preference, HELP is
 * answered with HERALD_SMS_HELP_TEXT (Twilio: in the TwiML reply; Vonage, which cannot
 * reply in its webhook: as a queued SMS). Vonage's callbacks are forms signed with sig =
 * HMAC-SHA256 of every other parameter, sorted, as "&name=value" ('&' and '=' in values
 * replaced by '_'), with HERALD_VONAGE_SIGNATURE_SECRET, and a timestamp. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channels/feedback.h"
#include "core/alloc.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "webhooks/sms.h"

void h_vonage_signature(const char *secret, const struct h_urlform *form, char out[65]) {
  size_t *order = h_calloc(form->n + 1, sizeof(size_t));
  size_t m = 0;
  for (size_t i = 0; i < form->n; i++) { /* sorted by name, sig left out */
    if (strcmp(form->names[i], "sig") == 0) {
      continue;
    }
    size_t j = m++;
    while (j > 0 && strcmp(form->names[order[j - 1]], form->names[i]) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  char *data = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&data, &len);
  for (size_t k = 0; k < m; k++) {
    fprintf(f, "&%s=", form->names[order[k]]);
    for (const char *v = form->values[order[k]]; *v != '\0'; v++) {
      fputc(*v == '&' || *v == '=' ? '_' : *v, f);
    }
  }
  fclose(f);
  unsigned char mac[32];
  h_hmac_sha256(secret, strlen(secret), data, len, mac);
  h_hex_encode(mac, sizeof(mac), out);
  for (char *p = out; *p != '\0'; p++) {
    *p = (char)toupper((unsigned char)*p);
  }
  free(data);
  free(order);
}

/* Parses a Vonage callback into form and checks its sig and timestamp; false when a reply
 * was sent (503 unconfigured, 415, 400). */
static bool vonage_form(struct h_req *rq, struct h_urlform *form) {
  const struct h_config *cfg = rq->app->cfg;
  if (cfg->vonage_signature_secret[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL, "Vonage callbacks are not configured"
                  " (HERALD_VONAGE_SIGNATURE_SECRET).", NULL);
    return false;
  }
  if (!h_urlform_body(rq, form)) {
    return false;
  }
  char want[65];
  h_vonage_signature(cfg->vonage_signature_secret, form, want);
  const char *sig = h_urlform_get(form, "sig");
  char upper[65] = "";
  for (size_t i = 0; sig != NULL && sig[i] != '\0' && i < 64; i++) {
    upper[i] = (char)toupper((unsigned char)sig[i]);
    upper[i + 1] = '\0';
  }
  if (sig == NULL || strlen(sig) != 64 || !h_consttime_eq(want, 64, upper, strlen(upper)) ||
      !h_webhook_timestamp_ok(h_urlform_get(form, "timestamp"), (long)time(NULL),
                              cfg->provider_webhook_tolerance_s)) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "vonage webhook refused from %s: bad sig or stale timestamp", rq->ip);
    h_reply_error(rq, H_ERR_INVALID, "invalid_signature",
                  "sig does not match the parameters, or timestamp is missing, too old or too"
                  " far in the future.", "sig");
    return false;
  }
  return true;
}

/* Vonage's receipt statuses in the words of the SMS status service, NULL for unknown. */
static const char *vonage_status(const char *status) {
  static const char *const map[][2] = {{"delivered", "delivered"}, {"expired", "undelivered"},
                                       {"failed", "failed"},       {"rejected", "failed"},
                                       {"accepted", "accepted"},   {"buffered", "sending"}};
  for (size_t i = 0; status != NULL && i < sizeof(map) / sizeof(map[0]); i++) {
    if (strcmp(map[i][0], status) == 0) {
      return map[i][1];
    }
  }
  return NULL;
}

void h_webhook_vonage_status_post(struct h_req *rq) {
  struct h_urlform form = {0};
  if (!vonage_form(rq, &form)) {
    h_urlform_free(&form);
    return;
  }
  const char *id = h_urlform_get(&form, "messageId");
  const char *raw = h_urlform_get(&form, "status");
  const char *status = vonage_status(raw);
  const char *err = h_urlform_get(&form, "err-code");
  struct h_field_errors fe = {0};
  if (!h_sms_message_id_ok(id)) {
    h_field_error(&fe, "messageId", id == NULL ? "missing_field" : "invalid_id",
                  "Must be the provider's message id.");
  }
  if (status == NULL) {
    h_field_error(&fe, "status", raw == NULL ? "missing_field" : "invalid_status",
                  "Must be one of delivered, expired, failed, rejected, accepted, buffered.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    h_urlform_free(&form);
    return;
  }
  h_sms_receipt(rq, "vonage", id, status,
                err != NULL && err[0] != '\0' && strcmp(err, "0") != 0 ? err : NULL);
  h_urlform_free(&form);
}

/* The sender as E.164 (Vonage sends digits without '+') into out; false when it is none. */
static bool sender_e164(const char *from, char out[24]) {
  if (from == NULL) {
    return false;
  }
  snprintf(out, 24, "%s%s", from[0] == '+' ? "" : "+", from);
  size_t n = strlen(out);
  return n >= 8 && n <= 16 && out[1] >= '1' && out[1] <= '9' &&
         strspn(out + 1, "0123456789") == n - 1;
}

/* Applies the keyword of text from phone; false when a reply was sent (400, 5xx). */
static bool keyword(struct h_req *rq, const char *provider, const char *from_param,
                    const char *from, const char *text, bool send_help,
                    enum h_sms_keyword *kw) {
  char phone[24];
  if (!sender_e164(from, phone)) {
    struct h_field_errors fe = {0};
    h_field_error(&fe, from_param, from == NULL ? "missing_field" : "invalid_phone",
                  "Must be the sender's number.");
    h_reply_field_errors(rq, &fe);
    return false;
  }
  *kw = h_sms_keyword_parse(text);
  struct h_actor actor = {NULL, "system", rq->ip, rq->request_id, NULL};
  size_t users = 0;
  h_result r = h_feedback_sms_keyword(rq->app, &actor, provider, phone, *kw, send_help, &users);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The message could not be handled; try again later.", NULL);
    return false;
  }
  char masked[32];
  h_mask_phone(phone, masked, sizeof(masked));
  static const char *const names[] = {"none", "STOP", "START", "HELP"};
  h_log_info("inbound sms via %s from %s: keyword %s, %zu account(s)", provider, masked,
             names[*kw], users);
  return true;
}

/* TwiML text escaped for XML into a new string (caller frees). */
static char *xml_escape(const char *s) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    default: fputc(*s, f);
    }
  }
  fclose(f);
  return out;
}

void h_webhook_sms_inbound_post(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  if (cfg->sms_auth_token[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL,
                  "Inbound SMS is not configured (HERALD_SMS_AUTH_TOKEN).", NULL);
    return;
  }
  struct h_urlform form = {0};
  enum h_sms_keyword kw = H_SMS_KEYWORD_NONE;
  if (h_twilio_verified_form(rq, NULL, &form) &&
      keyword(rq, "twilio", "From", h_urlform_get(&form, "From"), h_urlform_get(&form, "Body"),
              false, &kw)) {
    char *help = kw == H_SMS_KEYWORD_HELP ? xml_escape(cfg->sms_help_text) : NULL;
    char *twiml = h_sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>%s%s%s"
                            "</Response>", help != NULL ? "<Message>" : "",
                            help != NULL ? help : "", help != NULL ? "</Message>" : "");
    h_reply_text(rq, 200, "application/xml", twiml);
    free(twiml);
    free(help);
  }
  h_urlform_free(&form);
}

void h_webhook_vonage_inbound_post(struct h_req *rq) {
  struct h_urlform form = {0};
  enum h_sms_keyword kw = H_SMS_KEYWORD_NONE;
  if (vonage_form(rq, &form) &&
      keyword(rq, "vonage", "msisdn", h_urlform_get(&form, "msisdn"),
              h_urlform_get(&form, "text"), true, &kw)) {
    h_reply_no_content(rq);
  }
  h_urlform_free(&form);
}

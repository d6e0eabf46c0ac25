/* sms.c - the SMS status webhook: the form, its X-Twilio-Signature and its fields, then
 * the receipt handed to the delivery service (notifications/sms_status.h). */
#include "webhooks/sms.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/routes.h"
#include "notifications/sms_status.h"

/* Field indexes of form sorted by name (stable; forms are small: insertion sort).
 * Caller frees. */
static size_t *sorted_fields(const struct h_urlform *form) {
  size_t *order = h_calloc(form->n + 1, sizeof(size_t));
  for (size_t i = 0; i < form->n; i++) {
    size_t j = i;
    while (j > 0 && strcmp(form->names[order[j - 1]], form->names[i]) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  return order;
}

void h_twilio_signature(const char *token, const char *url, const struct h_urlform *form,
                        char out[32]) {
  size_t *order = sorted_fields(form);
  char *data = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&data, &len);
  fputs(url, f);
  for (size_t k = 0; k < form->n; k++) {
    fputs(form->names[order[k]], f);
    fputs(form->values[order[k]], f);
  }
  fclose(f);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)data, len, mac, &maclen);
  EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen); /* 20 bytes -> 28 chars + NUL */
  free(data);
  free(order);
}

bool h_twilio_signature_ok(const char *token, const char *url, const struct h_urlform *form,
                           const char *signature) {
  char want[32];
  h_twilio_signature(token, url, form, want);
  return signature != NULL && h_consttime_eq(want, strlen(want), signature, strlen(signature));
}

char *h_webhook_url(const struct h_req *rq, const char *configured) {
  if (configured != NULL && configured[0] != '\0') {
    return h_strdup(configured);
  }
  const char *proto = h_req_header(rq, "X-Forwarded-Proto");
  const char *host = h_req_header(rq, "Host");
  return h_sprintf("%s://%s%s", proto != NULL && strcmp(proto, "https") == 0 ? "https" : "http",
                   host != NULL ? host : "", rq->request->http_url);
}

/* Field checks; true when the request may proceed (a 400 was sent otherwise). */
static bool valid_fields(struct h_req *rq, const char *sid, const char *status) {
  struct h_field_errors fe = {0};
  if (!h_sms_message_id_ok(sid)) {
    h_field_error(&fe, "MessageSid", sid == NULL ? "missing_field" : "invalid_id",
                  "Must be the provider's message id: 1-255 letters, digits or -_.:@/+=~.");
  }
  if (status == NULL || h_sms_status_rank(status) < 0) {
    h_field_error(&fe, "MessageStatus", status == NULL ? "missing_field" : "invalid_status",
                  "Must be one of queued, sending, sent, delivered, undelivered, failed...");
  }
  if (h_field_errors_count(&fe) == 0) {
    return true;
  }
  h_reply_field_errors(rq, &fe);
  return false;
}

bool h_urlform_body(struct h_req *rq, struct h_urlform *form) {
  const char *type = h_req_header(rq, "Content-Type");
  if (type == NULL || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
    h_reply_error(rq, H_ERR_MEDIA_TYPE, NULL,
                  "Provider callbacks must be application/x-www-form-urlencoded.", NULL);
    return false;
  }
  if (h_urlform_parse(rq->request->binary_body, rq->request->binary_body_length, 64, form) !=
      H_OK) {
    h_reply_error(rq, H_ERR_INVALID, "malformed_form", "The form body cannot be decoded.", NULL);
    return false;
  }
  return true;
}

bool h_twilio_verified_form(struct h_req *rq, const char *configured_url,
                            struct h_urlform *form) {
  if (!h_urlform_body(rq, form)) {
    return false;
  }
  char *url = h_webhook_url(rq, configured_url);
  bool ok = h_twilio_signature_ok(rq->app->cfg->sms_auth_token, url, form,
                                  h_req_header(rq, "X-Twilio-Signature"));
  if (!ok) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "twilio webhook refused from %s: bad X-Twilio-Signature for %s", rq->ip, url);
    h_reply_error(rq, H_ERR_INVALID, "invalid_signature",
                  "X-Twilio-Signature does not match this URL and body.", "X-Twilio-Signature");
  }
  free(url);
  return ok;
}

void h_sms_receipt(struct h_req *rq, const char *provider, const char *id, const char *status,
                   const char *error_code) {
  struct h_actor actor = {NULL, "system", rq->ip, rq->request_id, NULL};
  bool recorded = false;
  h_result r = h_sms_status_record(rq->app, &actor, provider, id, status, error_code, &recorded);
  if (r == H_OK || r == H_ERR_NOT_FOUND) {
    h_log_info("%s sms status %s for %s: %s", provider, status, id,
               r == H_ERR_NOT_FOUND ? "unknown message, ignored"
               : recorded          ? "recorded"
                                   : "not newer, ignored");
    h_reply_no_content(rq);
  } else {
    h_reply_error(rq, r, NULL, "The receipt could not be recorded; try again later.", NULL);
  }
}

void h_webhook_sms_status_post(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  if (cfg->sms_auth_token == NULL || cfg->sms_auth_token[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL,
                  "SMS status callbacks are not configured (HERALD_SMS_AUTH_TOKEN).", NULL);
    return;
  }
  struct h_urlform form = {0};
  if (h_twilio_verified_form(rq, cfg->sms_status_callback_url, &form)) {
    const char *sid = h_urlform_get(&form, "MessageSid");
    const char *status = h_urlform_get(&form, "MessageStatus");
    const char *error_code = h_urlform_get(&form, "ErrorCode");
    if (valid_fields(rq, sid, status)) {
      h_sms_receipt(rq, "twilio", sid, status,
                    error_code != NULL && error_code[0] ? error_code : NULL);
    }
  }
  h_urlform_free(&form);
}

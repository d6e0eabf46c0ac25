/* email.c - the e-mail providers' event webhooks: SendGrid's signed Event Webhook
 * (ECDSA P-256 over timestamp + raw body) and Mailgun's signed webhooks (HMAC-SHA256 of
 * timestamp + token). Hard bounces, complaints and addresses dropped as invalid go to
 * the feedback service, which suppresses them (channels/feedback.h); other events are
 * acknowledged and ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channels/feedback.h"
#include "core/alloc.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/request.h"
#include "webhooks/sms.h"

/* The most events one SendGrid batch may carry. */
#define MAX_EVENTS 1000

bool h_webhook_timestamp_ok(const char *ts, long now, int tolerance_s) {
  char *end = NULL;
  long long t = ts != NULL ? strtoll(ts, &end, 10) : 0;
  if (ts == NULL || ts[0] < '0' || ts[0] > '9' || end == NULL || *end != '\0' || t <= 0) {
    return false;
  }
  return llabs((long long)now - t) <= tolerance_s;
}

bool h_sendgrid_signature_ok(const char *public_key, const char *timestamp, const char *body,
                             size_t len, const char *signature) {
  if (timestamp == NULL || signature == NULL) {
    return false;
  }
  size_t tlen = strlen(timestamp);
  char *signed_data = h_malloc(tlen + len + 1);
  memcpy(signed_data, timestamp, tlen);
  memcpy(signed_data + tlen, body, len);
  bool ok = h_ecdsa_sha256_verify(public_key, signed_data, tlen + len, signature);
  free(signed_data);
  return ok;
}

bool h_mailgun_signature_ok(const char *key, const char *timestamp, const char *token,
                            const char *signature) {
  if (timestamp == NULL || token == NULL || signature == NULL || strlen(token) > 256) {
    return false;
  }
  char *data = h_sprintf("%s%s", timestamp, token);
  unsigned char mac[32];
  h_hmac_sha256(key, strlen(key), data, strlen(data), mac);
  free(data);
  char hex[65];
  h_hex_encode(mac, sizeof(mac), hex);
  return h_consttime_eq(hex, 64, signature, strlen(signature));
}

/* Refuses a webhook whose signature does not hold: logs a security line, replies 400. */
static void refuse(struct h_req *rq, const char *provider, const char *header) {
  h_log(H_LOG_WARNING, "security", rq->request_id,
        "%s webhook refused from %s: bad signature or stale timestamp", provider, rq->ip);
  h_reply_error(rq, H_ERR_INVALID, "invalid_signature",
                "The signature does not match this body, or its timestamp is too old or too far"
                " in the future.",
                header);
}

/* True when word (lower case) occurs in s, in any case. Pure. */
static bool contains_ci(const char *s, const char *word) {
  size_t n = strlen(word);
  for (; *s != '\0'; s++) {
    if (strncasecmp(s, word, n) == 0) {
      return true;
    }
  }
  return false;
}

/* The suppression reason of a SendGrid event, or NULL when it suppresses nothing: hard
 * bounces ("bounce" but not "blocked"), spam reports, and drops for an invalid or
 * bounced address. */
static const char *sendgrid_reason(const json_t *ev) {
  const char *event = json_string_value(json_object_get(ev, "event"));
  const char *type = json_string_value(json_object_get(ev, "type"));
  const char *reason = json_string_value(json_object_get(ev, "reason"));
  if (event == NULL) {
    return NULL;
  }
  if (strcmp(event, "bounce") == 0) {
    return type != NULL && strcmp(type, "blocked") == 0 ? NULL : "bounce";
  }
  if (strcmp(event, "spamreport") == 0) {
    return "complaint";
  }
  if (strcmp(event, "dropped") == 0 && reason != NULL &&
      (contains_ci(reason, "invalid") || contains_ci(reason, "bounced"))) {
    return "dropped";
  }
  return NULL;
}

/* The longest provider string accepted in a documented field (email: 320; Mailgun's
 * signature fields: 256). */
#define MAX_FIELD 1024

/* Adds an error for each of names that ev (an object) holds as something else than a
 * string of at most MAX_FIELD bytes (see there); param prefix "[i].", "event-data."
 * or "signature.". */
static void string_fields(const json_t *ev, const char *prefix, const char *const *names,
                          struct h_field_errors *fe) {
  for (size_t k = 0; names[k] != NULL; k++) {
    const json_t *v = json_object_get(ev, names[k]);
    size_t max = strcmp(names[k], "email") == 0            ? 320
                 : strncmp(prefix, "signature.", 10) == 0 ? 256
                                                          : MAX_FIELD;
    char param[64];
    snprintf(param, sizeof(param), "%s%s", prefix, names[k]);
    if (v != NULL && !json_is_string(v)) {
      h_field_error(fe, param, "invalid_type", "Must be a string.");
    } else if (v != NULL && json_string_length(v) > max) {
      h_field_error(fe, param, "too_long", "Too long for a provider's field.");
    }
  }
}

/* Field checks of a SendGrid batch: an array of 1-1000 objects, each with an "event"
 * string, the documented fields strings, and when it suppresses an "email" of at most
 * 320 bytes. */
static bool sendgrid_shape(struct h_req *rq, const json_t *body) {
  static const char *const names[] = {"event", "email", "type", "reason", "status",
                                      "sg_event_id", "delivery_id", NULL};
  struct h_field_errors fe = {0};
  if (!json_is_array(body) || json_array_size(body) == 0 ||
      json_array_size(body) > MAX_EVENTS) {
    h_field_error(&fe, "body", "invalid_type", "Must be an array of 1-1000 event objects.");
  }
  size_t i;
  json_t *ev;
  json_array_foreach(json_is_array(body) ? body : NULL, i, ev) {
    char param[48];
    snprintf(param, sizeof(param), "[%zu].", i);
    const char *email = json_string_value(json_object_get(ev, "email"));
    if (!json_is_object(ev)) {
      param[strlen(param) - 1] = '\0';
      h_field_error(&fe, param, "invalid_type", "Must be an event object.");
      continue;
    }
    size_t before = h_field_errors_count(&fe);
    string_fields(ev, param, names, &fe);
    strcat(param, "event");
    if (json_object_get(ev, "event") == NULL) {
      h_field_error(&fe, param, "missing_field", "Must be the event's name.");
    } else if (h_field_errors_count(&fe) == before && sendgrid_reason(ev) != NULL &&
               (email == NULL || strchr(email, '@') == NULL)) {
      snprintf(param, sizeof(param), "[%zu].email", i);
      h_field_error(&fe, param, "invalid_email", "Needs the recipient's address.");
    }
    if (h_field_errors_count(&fe) >= 10) {
      break;
    }
  }
  if (h_field_errors_count(&fe) == 0) {
    return true;
  }
  h_reply_field_errors(rq, &fe);
  return false;
}

/* Suppresses what reports holds and replies 204, or the service's error. */
static void apply(struct h_req *rq, const char *provider, const struct h_email_report *reports,
                  size_t n, size_t events) {
  struct h_actor actor = {NULL, "system", rq->ip, rq->request_id, NULL};
  size_t suppressed = 0;
  h_result r = h_feedback_email(rq->app, &actor, provider, reports, n, &suppressed);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The events could not be recorded; try again later.", NULL);
    return;
  }
  h_log_info("%s webhook: %zu event(s), %zu undeliverable, %zu newly suppressed", provider,
             events, n, suppressed);
  h_reply_no_content(rq);
}

void h_webhook_sendgrid_post(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  if (rq->body == NULL) {
    h_reply_error(rq, H_ERR_INVALID, "missing_body", "The body must be a JSON array of events.",
                  NULL);
    return;
  }
  if (!sendgrid_shape(rq, rq->body)) {
    return;
  }
  if (cfg->sendgrid_webhook_public_key[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL, "The SendGrid event webhook is not configured"
                  " (HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY).", NULL);
    return;
  }
  const char *ts = h_req_header(rq, "X-Twilio-Email-Event-Webhook-Timestamp");
  if (!h_webhook_timestamp_ok(ts, (long)time(NULL), cfg->provider_webhook_tolerance_s) ||
      !h_sendgrid_signature_ok(cfg->sendgrid_webhook_public_key, ts, rq->request->binary_body,
                               rq->request->binary_body_length,
                               h_req_header(rq, "X-Twilio-Email-Event-Webhook-Signature"))) {
    refuse(rq, "sendgrid", "X-Twilio-Email-Event-Webhook-Signature");
    return;
  }
  size_t n = 0, i;
  struct h_email_report *reports = h_calloc(json_array_size(rq->body), sizeof(*reports));
  json_t *ev;
  json_array_foreach(rq->body, i, ev) {
    const char *reason = sendgrid_reason(ev);
    if (reason != NULL) {
      const char *status = json_string_value(json_object_get(ev, "status"));
      const char *why = json_string_value(json_object_get(ev, "reason"));
      reports[n++] = (struct h_email_report){
          json_string_value(json_object_get(ev, "email")), reason,
          json_string_value(json_object_get(ev, "sg_event_id")), why != NULL ? why : status};
    }
  }
  apply(rq, "sendgrid", reports, n, json_array_size(rq->body));
  free(reports);
}

/* The suppression reason of a Mailgun event: permanent failures and complaints. */
static const char *mailgun_reason(const json_t *data) {
  const char *event = json_string_value(json_object_get(data, "event"));
  const char *severity = json_string_value(json_object_get(data, "severity"));
  if (event != NULL && strcmp(event, "failed") == 0 && severity != NULL &&
      strcmp(severity, "permanent") == 0) {
    return "bounce";
  }
  return event != NULL && strcmp(event, "complained") == 0 ? "complaint" : NULL;
}

/* Field checks of a Mailgun webhook body; true when it may proceed (400 sent otherwise). */
static bool mailgun_shape(struct h_req *rq, const json_t *sig, const json_t *data) {
  struct h_field_errors fe = {0};
  static const char *const names[] = {"timestamp", "token", "signature", NULL};
  static const char *const data_names[] = {"event", "severity", "recipient", "id", NULL};
  if (!json_is_object(sig)) {
    h_field_error(&fe, "signature", sig == NULL ? "missing_field" : "invalid_type",
                  "Must be an object: timestamp, token, signature.");
  } else {
    for (size_t i = 0; names[i] != NULL; i++) {
      if (json_object_get(sig, names[i]) == NULL) {
        char param[32];
        snprintf(param, sizeof(param), "signature.%s", names[i]);
        h_field_error(&fe, param, "missing_field", "Required.");
      }
    }
    string_fields(sig, "signature.", names, &fe);
  }
  if (!json_is_object(data)) {
    h_field_error(&fe, "event-data", data == NULL ? "missing_field" : "invalid_type",
                  "Must be the event object.");
  } else {
    if (json_object_get(data, "event") == NULL) {
      h_field_error(&fe, "event-data.event", "missing_field", "Must be the event's name.");
    }
    string_fields(data, "event-data.", data_names, &fe);
  }
  if (h_field_errors_count(&fe) == 0) {
    return true;
  }
  h_reply_field_errors(rq, &fe);
  return false;
}

void h_webhook_mailgun_post(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  if (!h_require_object(rq)) {
    return;
  }
  const json_t *sig = json_object_get(rq->body, "signature");
  const json_t *data = json_object_get(rq->body, "event-data");
  if (!mailgun_shape(rq, sig, data)) {
    return;
  }
  if (cfg->mailgun_webhook_signing_key[0] == '\0') {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL, "Mailgun webhooks are not configured"
                  " (HERALD_MAILGUN_WEBHOOK_SIGNING_KEY).", NULL);
    return;
  }
  const char *ts = json_string_value(json_object_get(sig, "timestamp"));
  if (!h_webhook_timestamp_ok(ts, (long)time(NULL), cfg->provider_webhook_tolerance_s) ||
      !h_mailgun_signature_ok(cfg->mailgun_webhook_signing_key, ts,
                              json_string_value(json_object_get(sig, "token")),
                              json_string_value(json_object_get(sig, "signature")))) {
    refuse(rq, "mailgun", "signature");
    return;
  }
  const char *reason = mailgun_reason(data);
  const char *email = json_string_value(json_object_get(data, "recipient"));
  if (reason != NULL && (email == NULL || strchr(email, '@') == NULL || strlen(email) > 320)) {
    struct h_field_errors fe = {0};
    h_field_error(&fe, "event-data.recipient", "invalid_email", "Must be the recipient's address.");
    h_reply_field_errors(rq, &fe);
    return;
  }
  const json_t *status = json_object_get(data, "delivery-status");
  struct h_email_report report = {email, reason, json_string_value(json_object_get(data, "id")),
                                  json_string_value(json_object_get(status, "message"))};
  apply(rq, "mailgun", &report, reason != NULL ? 1 : 0, 1);
}

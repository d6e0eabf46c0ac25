/* sms.h - the providers' webhooks: SMS status callbacks (Twilio's, verified by their
 * X-Twilio-Signature; Vonage's, by their sig), inbound SMS keywords (sms_inbound.c) and
 * the e-mail providers' bounce and complaint events (email.c). */
#ifndef HERALD_WEBHOOKS_SMS_H
#define HERALD_WEBHOOKS_SMS_H

#include <stdbool.h>

#include "http/http.h"
#include "http/urlform.h"
#include "notifications/sms_status.h"

/* base64(HMAC-SHA1(token, url + every field's name and value, sorted by name))
 * into out (at least 32 bytes). Pure. */
void h_twilio_signature(const char *token, const char *url, const struct h_urlform *form,
                        char out[32]);

/* True when signature is the one of url and form under token (constant time). */
bool h_twilio_signature_ok(const char *token, const char *url, const struct h_urlform *form,
                           const char *signature);

/* The URL a provider signed: configured when set, else the one this request was made to
 * (X-Forwarded-Proto and Host honoured). New string the caller frees. */
char *h_webhook_url(const struct h_req *rq, const char *configured);

/* Parses an application/x-www-form-urlencoded body into form (caller h_urlform_free()s
 * it); false when a 415 or 400 was sent. */
bool h_urlform_body(struct h_req *rq, struct h_urlform *form);

/* h_urlform_body, then X-Twilio-Signature against h_webhook_url(rq, configured_url)
 * keyed by HERALD_SMS_AUTH_TOKEN; false when a reply was sent. */
bool h_twilio_verified_form(struct h_req *rq, const char *configured_url,
                            struct h_urlform *form);

/* True when ts is a Unix time within tolerance_s of now. Pure. */
bool h_webhook_timestamp_ok(const char *ts, long now, int tolerance_s);

/* SendGrid's Event Webhook signature: base64 DER ECDSA over timestamp + body under
 * public_key (base64 DER). Mailgun's: hex HMAC-SHA256(key, timestamp + token). Pure. */
bool h_sendgrid_signature_ok(const char *public_key, const char *timestamp, const char *body,
                             size_t len, const char *signature);
bool h_mailgun_signature_ok(const char *key, const char *timestamp, const char *token,
                            const char *signature);

/* Vonage's sig of form (the "sig" field left out) under secret: upper-case hex into out.
 * Pure. */
void h_vonage_signature(const char *secret, const struct h_urlform *form, char out[65]);

/* Records a provider's receipt (status in the words of notifications/sms_status.h;
 * error_code may be NULL) and replies 204, or the error. */
void h_sms_receipt(struct h_req *rq, const char *provider, const char *id, const char *status,
                   const char *error_code);

/* POST /api/v1/webhooks/sms/status */
void h_webhook_sms_status_post(struct h_req *rq);
/* POST /api/v1/webhooks/sms/inbound (Twilio) */
void h_webhook_sms_inbound_post(struct h_req *rq);
/* POST /api/v1/webhooks/sms/vonage/status and /api/v1/webhooks/sms/vonage/inbound */
void h_webhook_vonage_status_post(struct h_req *rq);
void h_webhook_vonage_inbound_post(struct h_req *rq);
/* POST /api/v1/webhooks/email/sendgrid and /api/v1/webhooks/email/mailgun */
void h_webhook_sendgrid_post(struct h_req *rq);
void h_webhook_mailgun_post(struct h_req *rq);

#endif

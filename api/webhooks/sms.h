/* sms.h - POST /api/v1/webhooks/sms/status: the SMS provider's status callbacks
 * (Twilio-compatible), verified by their X-Twilio-Signature. */
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

/* POST /api/v1/webhooks/sms/status */
void h_webhook_sms_status_post(struct h_req *rq);

#endif

/* webhooks_sms.h - POST /api/v1/webhooks/sms/status: the SMS provider's status
 * callbacks (Twilio-compatible), verified by their X-Twilio-Signature. */
#ifndef HERALD_WEBHOOKS_SMS_H
#define HERALD_WEBHOOKS_SMS_H

#include <stdbool.h>

#include "urlform.h"

/* base64(HMAC-SHA1(token, url + every field's name and value, sorted by name))
 * into out (at least 32 bytes). Pure. */
void h_twilio_signature(const char *token, const char *url, const struct h_urlform *form,
                        char out[32]);

/* True when signature is the one of url and form under token (constant time). */
bool h_twilio_signature_ok(const char *token, const char *url, const struct h_urlform *form,
                           const char *signature);

/* How far a status is along queued < sending < sent < final (delivered,
 * undelivered, failed, ...); -1 for none (""), -2 for a status we do not know. Pure. */
int h_sms_status_rank(const char *status);

/* The longest provider message id accepted back (deliveries keep up to 255 bytes). */
#define H_SMS_MESSAGE_ID_MAX 255

/* True when sid is an id some provider may have handed out: 1-255 characters among letters,
 * digits and "-_.:@/+=~" (Twilio's "SM...", the file provider's "file:<uuid>"). Pure. */
bool h_sms_message_id_ok(const char *sid);

#endif

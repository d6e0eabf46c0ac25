/* sms_status.h - SMS delivery receipts reported by the provider (status callbacks). */
#ifndef HERALD_SMS_STATUS_H
#define HERALD_SMS_STATUS_H

#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

/* How far a status is along queued < sending < sent < final (delivered,
 * undelivered, failed, ...); -1 for none (""), -2 for a status we do not know. Pure. */
int h_sms_status_rank(const char *status);

/* The longest provider message id accepted back (deliveries keep up to 255 bytes). */
#define H_SMS_MESSAGE_ID_MAX 255

/* True when sid is an id some provider may have handed out: 1-255 characters among letters,
 * digits and "-_.:@/+=~" (Twilio's "SM...", the file provider's "file:<uuid>"). Pure. */
bool h_sms_message_id_ok(const char *sid);

/* Records status (and error_code, may be NULL) of the SMS that provider ("twilio", which
 * also covers the file provider, or "vonage") knows as sid, when it is further along than
 * what is recorded; *recorded says whether it was. Everything borrowed. H_ERR_NOT_FOUND
 * when no delivery of that provider has that sid. */
h_result h_sms_status_record(struct h_app *app, const struct h_actor *actor, const char *provider,
                             const char *sid, const char *status, const char *error_code,
                             bool *recorded);

#endif

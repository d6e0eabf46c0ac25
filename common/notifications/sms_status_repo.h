/* sms_status_repo.h - SQL for SMS delivery receipts (status callbacks). Every
 * pointer taken is borrowed; results go into the caller's struct. */
#ifndef HERALD_SMS_STATUS_REPO_H
#define HERALD_SMS_STATUS_REPO_H

#include <libpq-fe.h>

#include "core/result.h"

struct h_sms_receipt_row {
  char id[37];              /* the delivery */
  int attempts;
  char status[16];          /* deliveries.status */
  char provider_status[32]; /* "" when none yet */
};

/* Locks (FOR UPDATE) the SMS delivery provider knows as message_sid ("twilio" also
 * matches the file provider's). H_ERR_NOT_FOUND when there is none. */
h_result h_sms_status_repo_find(PGconn *conn, const char *provider, const char *message_sid,
                                struct h_sms_receipt_row *out);

/* Records provider_status on row (and delivered_at, or failed with the provider's
 * error_code, may be NULL) with a delivery_events row. */
h_result h_sms_status_repo_apply(PGconn *conn, const struct h_sms_receipt_row *row,
                            const char *provider_status, const char *error_code);

#endif

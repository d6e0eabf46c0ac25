/* feedback_repo.h - SQL for what providers report back about recipients: addresses an
 * e-mail provider found undeliverable (email_suppressions), and a phone number's SMS
 * preference set by an inbound STOP or START. Every pointer taken is borrowed. */
#ifndef HERALD_FEEDBACK_REPO_H
#define HERALD_FEEDBACK_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"

/* Records email (any case; stored lower-case) as undeliverable for reason (bounce,
 * complaint, dropped), or refreshes its row. *created: it was not suppressed before. */
h_result h_feedback_repo_suppress(PGconn *conn, const char *email, const char *reason,
                                  const char *provider, const char *event_id,
                                  const char *detail, bool *created);

/* Turns the SMS channel on or off in the preferences of every account whose phone is
 * phone (E.164), not deleted. *user_ids receives their ids (new JSON array, caller
 * decrefs; empty when none). */
h_result h_feedback_repo_sms_pref(PGconn *conn, const char *phone, bool on, json_t **user_ids);

/* The first account (oldest) whose phone is phone, not deleted: its id into out.
 * H_ERR_NOT_FOUND when none. */
h_result h_feedback_repo_user_by_phone(PGconn *conn, const char *phone, char out[37]);

#endif

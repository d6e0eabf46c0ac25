/* privacy_repo.h - SQL of the data-subject rights: everything stored about one account
 * (export) and its erasure (delete), across every table that holds it. */
#ifndef HERALD_PRIVACY_REPO_H
#define HERALD_PRIVACY_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "core/result.h"

/* Adds to doc (borrowed) one member per kind of data held about user_id: preferences,
 * devices (tokens masked), notifications, deliveries, payments, refunds, payment_methods
 * (masked), payment_customer, sessions (refresh-token families), one_time_tokens,
 * api_keys_created and audit_log. Runs inside the caller's transaction. */
h_result h_privacy_repo_export(PGconn *conn, const char *user_id, json_t *doc);

/* Erases what is held about user_id, in the caller's transaction: deletes its devices,
 * preferences, notifications (deliveries and their events with them), payment methods,
 * payment customer, sessions, one-time tokens and stored idempotent responses; strips its
 * payments to what accounting keeps (amounts, currency, status, dates, provider ids) and the
 * provider events about them to their id and type; clears IP and details of the audit entries
 * made by it or about it (target_type 'user'). The users row itself is anonymised by h_user_repo_anonymize. */
h_result h_privacy_repo_erase(PGconn *conn, const char *user_id);

/* The SQL of the export and the erasure (static strings, $1 = the user id) into out, up to
 * max of them; returns how many there are. For the test that every one reaches its rows
 * through an index. */
size_t h_privacy_repo_statements(const char **out, size_t max);

#endif

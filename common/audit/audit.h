/* audit.h - the audit trail: every state change, with who, from where, in which
 * request. Rows are written inside the caller's transaction; an "event" log line
 * (or "security" for sign-in matters) is written alongside. */
#ifndef HERALD_AUDIT_H
#define HERALD_AUDIT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "core/page.h"
#include "core/result.h"

struct h_actor {
  const char *id;         /* user or API key id, NULL for anonymous/system */
  const char *type;       /* "user", "api_key", "system" */
  const char *ip;
  const char *request_id;
  const char *user_agent; /* the client's User-Agent, NULL when not sent */
};

/* Inserts one audit_log row; details (may be NULL) is borrowed. security=true
 * logs a "security" line instead of an "event" line. */
h_result h_audit_write(PGconn *conn, const struct h_actor *actor, const char *action,
                       const char *target_type, const char *target_id, const json_t *details,
                       bool security);

/* One audit row of a batch (everything borrowed). */
struct h_audit_entry {
  const struct h_actor *actor;
  const char *action, *target_type, *target_id;
  const char *details; /* its JSON text (an object); NULL: {} */
  const char *id;      /* its id, a time-ordered uuid made by the API (h_uuid_v7): required
                        * by the batch statement of notification_repo, which writes it
                        * instead of the column's default herald_uuid_v7() (a
                        * gen_random_uuid() and its formatting in PostgreSQL per row) */
};

/* The "event" log line of each of n entries written by another statement (notification_repo
 * writes a POST batch's audit rows with its notifications). */
void h_audit_log_events(const struct h_audit_entry *entries, int n);

/* What an audit-log listing is narrowed to; NULL members do not narrow (all borrowed). */
struct h_audit_filter {
  const char *actor_id, *action, *target_id, *created_gte, *created_lte;
};

/* One page of audit_log rows, newest first, into *data (new reference) and *has_more. */
h_result h_audit_list(struct h_app *app, const struct h_audit_filter *f,
                      const struct h_page *page, json_t **data, bool *has_more);

#endif

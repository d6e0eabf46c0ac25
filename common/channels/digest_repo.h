/* digest_repo.h - SQL for digests: deliveries waiting (status "digest") grouped by
 * recipient, channel and category. */
#ifndef HERALD_DIGEST_REPO_H
#define HERALD_DIGEST_REPO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/result.h"

/* Up to limit groups whose window is over: the oldest waiting member is older than the
 * category's window (windows: {"<category>": seconds}, borrowed; a category without one is
 * due at once). *groups: array of {user_id, channel, category} (new reference). */
h_result h_digest_repo_due(PGconn *conn, const json_t *windows, int limit, json_t **groups);

/* Locks (FOR UPDATE SKIP LOCKED) up to limit waiting members of a group, oldest first:
 * *members is an array of {id, title, body, action_url} (new reference). */
h_result h_digest_repo_take(PGconn *conn, const char *user_id, const char *channel,
                            const char *category, int limit, json_t **members);

/* Marks the members (a JSON array of ids, as text) digested into delivery digest_id. */
h_result h_digest_repo_mark(PGconn *conn, const char *ids_json, const char *digest_id);

#endif

/* session_service.h - a user's sessions (refresh-token families): listing and ending them.
 *
 * Ending a session revokes its refresh tokens and raises the user's token epoch, so its
 * access tokens stop at once; the other sessions' access tokens stop too and their
 * clients refresh (their refresh tokens still work) to get new ones. */
#ifndef HERALD_SESSION_SERVICE_H
#define HERALD_SESSION_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

#define H_SESSIONS_MAX 100

/* The live sessions of user_id, newest use first (at most H_SESSIONS_MAX): *data a new
 * array (token_repo.h: h_session_repo_list), *has_more when there are more. current
 * (may be NULL or "") marks the caller's. */
h_result h_session_list(struct h_app *app, const char *user_id, const char *current,
                        json_t **data, bool *has_more);

/* Ends session id of user_id; H_ERR_NOT_FOUND when it is not a live session of theirs. */
h_result h_session_revoke(struct h_app *app, const struct h_actor *actor, const char *user_id,
                          const char *id);

/* Ends every session of user_id ("sign out everywhere"). */
h_result h_session_revoke_all(struct h_app *app, const struct h_actor *actor,
                              const char *user_id);

#endif

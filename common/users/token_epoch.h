/* token_epoch.h - the per-user token epoch that every access token must match.
 *
 * users.token_epoch rises when a user's access tokens must stop at once (role change,
 * disabling, password change or reset, sign-out everywhere, a session revoked). Tokens
 * carry the epoch they were issued at ("ep"); each authenticated request compares it
 * with the current one. The current epochs are kept per process in a fixed table
 * (striped locks, no allocation on a hit), trusted for HERALD_TOKEN_EPOCH_CACHE_MS and
 * dropped at once by the process that raises one, so the check costs a lookup on most
 * requests and one indexed read per user and period otherwise. */
#ifndef HERALD_TOKEN_EPOCH_H
#define HERALD_TOKEN_EPOCH_H

#include "app/app.h"
#include "core/result.h"

struct h_token_epochs;

/* A table of slots entries (rounded up to a power of two) trusted for ttl_ms (0: every
 * check reads PostgreSQL). Free with h_token_epochs_free. */
struct h_token_epochs *h_token_epochs_new(size_t slots, int ttl_ms);
void h_token_epochs_free(struct h_token_epochs *t);

/* H_OK when epoch is user_id's current epoch and the account is active;
 * H_ERR_UNAUTHORIZED when it is older, or the account is disabled or gone; a database
 * error when the epoch could not be read and no copy is held. */
h_result h_token_epoch_check(struct h_app *app, const char *user_id, long epoch);

/* Drops t's copy of user_id's epoch (t may be NULL): what a notice that the user's row
 * changed in another process does (users/profile_cache.h). */
void h_token_epoch_drop(struct h_token_epochs *t, const char *user_id);

/* Drops this process's copies of user_id's epoch and profile (users/profile_cache.h), after
 * a committed h_user_repo_bump_epoch (users/user_repo.h), and tells the open notification streams of every
 * API process to check the account again (inbox/stream_bus.h). */
void h_token_epoch_forget(struct h_app *app, const char *user_id);

#endif

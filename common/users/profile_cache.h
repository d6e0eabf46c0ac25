/* profile_cache.h - the API process's copies of users' profiles (the body of GET
 * /api/v1/users/me, app->profiles: a core/copy_cache.h table), kept exact by PostgreSQL's
 * notices.
 *
 * A trigger on users (migration 0093) sends NOTIFY herald_users with the user's id when a
 * column of the profile or the token epoch changes, or the row goes; it runs in the
 * writer's transaction, so every writer is covered (the API, workers, the CLI, SQL by hand)
 * and the notice is delivered after the COMMIT. Each API process LISTENs on its own
 * connection (store/pg_listen.h) and drops the user's profile and token epoch on a notice.
 * Copies are trusted only while that LISTEN is in force: when the connection breaks every
 * copy is dropped and none is kept until it listens again, since notices sent meanwhile are
 * lost. A read that raced with a change cannot store what it read: each slot counts its
 * drops, and a copy is only kept if no drop happened since the read began (a ticket). A
 * copy also ages out after HERALD_USER_CACHE_MS, and the process that commits a change
 * drops its own copy before answering (read-your-writes on one process; other processes
 * see the change when the notice arrives, about a millisecond after the COMMIT). */
#ifndef HERALD_PROFILE_CACHE_H
#define HERALD_PROFILE_CACHE_H

#include "app/app.h"
#include "core/copy_cache.h"

#define H_USERS_CHANNEL "herald_users"

/* Starts app's listener on HERALD_DATABASE_LISTEN_URL (or HERALD_DATABASE_URL): notices on
 * H_USERS_CHANNEL drop the user's profile and token epoch; the listener's state switches
 * app->profiles on and off. NULL, and app->profiles never on, when app->profiles is NULL or
 * the only URL may be a transaction pooler (HERALD_DB_PREPARED_STATEMENTS=false), where a
 * LISTEN does not stay on one server connection. Stop with h_profile_cache_unlisten before
 * freeing app. */
struct h_pg_listen *h_profile_cache_listen(struct h_app *app);
void h_profile_cache_unlisten(struct h_pg_listen *l);

#endif

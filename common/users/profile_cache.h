/* profile_cache.h - the API process's copies of users' profiles (the body of GET
 * /api/v1/users/me), kept exact by PostgreSQL's notices.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

#define H_USERS_CHANNEL "herald_users"

struct h_profile_cache;

/* Taken by a lookup that missed; h_profile_cache_put stores only if it is still current. */
struct h_profile_ticket {
  size_t slot;
  uint64_t slot_drops;
  uint64_t generation;
};

/* A table of slots entries (rounded up to a power of two) trusted for ttl_ms, offline
 * (trusting nothing) until h_profile_cache_set_online. Free with h_profile_cache_free. */
struct h_profile_cache *h_profile_cache_new(size_t slots, int ttl_ms);
void h_profile_cache_free(struct h_profile_cache *c);

/* A copy of user_id's profile body (caller frees) when one is held, fresh and the cache is
 * online; otherwise NULL and *t the ticket to store what is read next. c may be NULL. */
char *h_profile_cache_get(struct h_profile_cache *c, const char *user_id,
                          struct h_profile_ticket *t);

/* Keeps a copy of body (borrowed) for user_id, unless a drop happened since t was taken
 * or the cache went offline meanwhile. c may be NULL. */
void h_profile_cache_put(struct h_profile_cache *c, const char *user_id, const char *body,
                         const struct h_profile_ticket *t);

/* Drops user_id's copy (any case) and spoils the tickets of its slot. c may be NULL. */
void h_profile_cache_drop(struct h_profile_cache *c, const char *user_id);

/* Online: copies may be kept and served. Either way every copy held is dropped. */
void h_profile_cache_set_online(struct h_profile_cache *c, bool online);

struct h_profile_cache_stats {
  bool online;         /* the LISTEN is in force: copies are kept and served */
  unsigned long hits;  /* lookups answered from a copy */
  unsigned long misses;
  unsigned long drops; /* notices and writers' drops */
};

/* c's counters (all zero for NULL). */
void h_profile_cache_stats(struct h_profile_cache *c, struct h_profile_cache_stats *out);

/* Starts app's listener on HERALD_DATABASE_LISTEN_URL (or HERALD_DATABASE_URL): notices on
 * H_USERS_CHANNEL drop the user's profile and token epoch; the listener's state switches
 * app->profiles on and off. NULL, and app->profiles never on, when app->profiles is NULL or
 * the only URL may be a transaction pooler (HERALD_DB_PREPARED_STATEMENTS=false), where a
 * LISTEN does not stay on one server connection. Stop with h_profile_cache_unlisten before
 * freeing app. */
struct h_pg_listen *h_profile_cache_listen(struct h_app *app);
void h_profile_cache_unlisten(struct h_pg_listen *l);

#endif

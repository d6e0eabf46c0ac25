/* stream_bus.h - the change notices behind the notification stream, over Redis pub/sub.
 *
 * The process that commits a change to users' feeds (or to their accounts' token epochs)
 * publishes, after the COMMIT, "<kind>:<user id>[,<user id>...]" on channel
 * "herald:stream:<shard>" (shard = a hash of the user id modulo HERALD_STREAM_SHARDS), one
 * PUBLISH per shard in one round trip. Every API process subscribes to every shard and
 * re-reads the changed users' feeds from PostgreSQL for the streams it holds
 * (stream_hub.h): a notice carries no data, so a lost notice delays, never loses, an event. */
#ifndef HERALD_STREAM_BUS_H
#define HERALD_STREAM_BUS_H

#include <stddef.h>

#include "app/app.h"
#include "store/redis.h"

#define H_STREAM_CHANNEL_PREFIX "herald:stream:"
#define H_STREAM_KIND_FEED 'n'    /* notifications created, read, unread or deleted */
#define H_STREAM_KIND_ACCOUNT 'a' /* token epoch raised, account disabled or deleted */
#define H_STREAM_KIND_ALL 'A'     /* "A:": every user's feed may have changed (scheduled in-app
                                     notifications fell due); sent on shard 0 */

/* The shard of user_id (case-insensitive) among shards. Pure. */
int h_stream_shard(const char *user_id, int shards);

/* Publishes the n user ids (borrowed; repeats are sent once per shard message) as a notice of
 * kind through app's Redis pool. Best effort: a failure is logged; the streams then see the
 * change at their next account check or reconnect. */
void h_stream_publish(struct h_app *app, char kind, const char *const *users, size_t n);

/* The same through r (borrowed, the caller's thread's connection) with shards channels. */
void h_stream_publish_via(struct h_redis *r, int shards, char kind, const char *const *users,
                          size_t n);

/* Publishes "A:" through r (borrowed): every process re-reads the feeds of all its streams. */
void h_stream_publish_all(struct h_redis *r);

/* The same for one user. */
void h_stream_publish_one(struct h_app *app, char kind, const char *user_id);

#endif

/* pg_listen.h - a thread that LISTENs on one PostgreSQL channel and hands each notice's
 * payload to a callback.
 *
 * The thread owns its connection and reconnects by itself. Every time it has no LISTEN in
 * force (before the first, after the connection broke, while it reconnects) it says so
 * through on_state(false), and on_state(true) once a LISTEN is in force again: a caller
 * that keeps copies of rows invalidated by notices drops them all and trusts none while
 * the listener is offline, because notices sent meanwhile are never delivered. An idle
 * connection is pinged every H_PG_LISTEN_PING_MS so a dead one is noticed. */
#ifndef HERALD_PG_LISTEN_H
#define HERALD_PG_LISTEN_H

#include <stdbool.h>

#include "store/db.h"

#define H_PG_LISTEN_PING_MS 10000

struct h_pg_listen;

struct h_pg_listen_options {
  struct h_db_options db;   /* connection settings (url borrowed; pool_size unused) */
  const char *channel;      /* borrowed: an SQL identifier, [a-z_][a-z0-9_]* */
  void (*on_notice)(void *cls, const char *payload); /* payload borrowed for the call */
  void (*on_state)(void *cls, bool online);
  void *cls;
};

/* Starts the thread; opt's strings and cls must outlive the result. NULL when the channel
 * is not a plain identifier or no thread could be made. Stop with h_pg_listen_stop. */
struct h_pg_listen *h_pg_listen_start(const struct h_pg_listen_options *opt);

/* Stops the thread (within ~H_PG_LISTEN_POLL_MS, or the connect timeout while it is
 * connecting), closes its connection, reports on_state(false) if it was listening and frees
 * l. NULL is fine. */
void h_pg_listen_stop(struct h_pg_listen *l);

#define H_PG_LISTEN_POLL_MS 200

#endif

/* stream_hub.h - the open notification streams of one API process.
 *
 * Each open stream has a bounded queue of SSE text (sse.h) that its HTTP connection drains
 * through h_stream_read. Two threads feed the queues: the subscriber listens to the change
 * notices of every shard (stream_bus.h) and marks the users they name; the pump re-reads a
 * marked user's feed from PostgreSQL after the position of each of its streams and queues the
 * events (replay after Last-Event-ID and live delivery are the same read), sends unread
 * counts, heartbeats, and ends streams whose access token lapsed or whose account or session
 * ended (session.expired) or whose client fell HERALD_STREAM_BUFFER_BYTES behind
 * (stream.overflow). No thread waits on a connection: an empty queue suspends it, a queued
 * event resumes it (struct h_stream_conn_ops). docs/streaming.md has the design. */
#ifndef HERALD_STREAM_HUB_H
#define HERALD_STREAM_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "app/app.h"
#include "core/result.h"
#include "inbox/stream_ticket.h"

struct h_stream_hub;
struct h_stream;

/* How the hub parks and wakes the connection of a stream (the HTTP layer's). suspend is
 * called from h_stream_read when the queue is empty, resume from a hub thread once something
 * was queued; both with the stream's lock held. */
struct h_stream_conn_ops {
  void (*suspend)(void *conn);
  void (*resume)(void *conn);
};

/* Starts the subscriber and the pump for app (borrowed, must outlive the hub). Free with
 * h_stream_hub_stop. */
struct h_stream_hub *h_stream_hub_start(struct h_app *app);

/* Ends every stream (their connections finish their response) and refuses new ones; waits up
 * to wait_ms for every connection to let go of its stream. Returns how many still hold one. */
int h_stream_hub_close_all(struct h_stream_hub *hub, int wait_ms);

/* Stops the threads and frees the hub; call after h_stream_hub_close_all and once the HTTP
 * server no longer runs. NULL is fine. */
void h_stream_hub_stop(struct h_stream_hub *hub);

/* Streams open now. */
int h_stream_hub_count(struct h_stream_hub *hub);

/* Since start: streams ended for a slow client (stream.overflow) and by session.expired. */
void h_stream_hub_ends(struct h_stream_hub *hub, long *overflowed, long *expired);

/* A stream to open: who, from where. last_event_id < 0: a fresh stream, which starts at head
 * with unread (the feed as it stands); otherwise a resumed one, which first replays the
 * changes after last_event_id. */
struct h_stream_start {
  struct h_stream_grant grant;
  long long last_event_id;
  long long head;
  long unread;
  bool reset; /* a fresh stream opening with stream.reset (its Last-Event-ID was unknown) */
};

/* Registers a stream for s (copied) on conn (borrowed until h_stream_release) and queues its
 * opening ("retry:" and, for a fresh stream, unread_count). *out is released by the
 * connection with h_stream_release. H_ERR_UNAVAILABLE when the hub is closing or holds
 * HERALD_STREAM_MAX streams. */
h_result h_stream_hub_open(struct h_stream_hub *hub, const struct h_stream_start *s,
                           const struct h_stream_conn_ops *ops, void *conn,
                           struct h_stream **out);

/* The connection's read: moves up to max queued bytes into out and returns how many; 0 after
 * suspending the connection (the queue is empty); -1 once the stream has ended and its queue
 * is drained. */
ssize_t h_stream_read(struct h_stream *st, char *out, size_t max);

/* The connection is done with st (closed or finished). */
void h_stream_release(struct h_stream *st);

#endif

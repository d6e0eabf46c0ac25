/* stream_hub_impl.h - what stream_hub.c, stream_pump.c and stream_sub.c share: the hub's
 * structures and the queueing primitives. Not for other modules. */
#ifndef HERALD_STREAM_HUB_IMPL_H
#define HERALD_STREAM_HUB_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "inbox/sse.h"
#include "inbox/stream_hub.h"

/* Bytes of a stream's queue kept for its final event (session.expired, stream.overflow). */
#define H_STREAM_RESERVE 256

struct h_stream {
  pthread_mutex_t mu;
  atomic_int refs;      /* the hub's and the connection's */
  atomic_bool gone;     /* the connection let go (h_stream_release) */
  struct h_stream_hub *hub;
  /* under mu */
  struct h_sse_buf buf;
  bool waiting;         /* the connection is suspended on an empty queue */
  bool ending;          /* no more events: the connection ends once the queue drains */
  const struct h_stream_conn_ops *ops;
  void *conn;
  /* under the hub's mu (the pump and the subscriber) */
  struct h_stream_grant grant;
  long long last_seq;   /* the id of the last change queued */
  long unread;          /* the last unread count sent, -1 before the first */
  bool need_count;      /* send unread_count if it changed */
  bool need_reset;      /* the replay window was exceeded: send stream.reset */
  long long next_hb_ms; /* CLOCK_MONOTONIC ms of the next heartbeat */
  struct h_stream *next; /* in its user's list */
};

struct h_stream_user {
  char id[37];
  struct h_stream *streams;
  bool dirty;       /* its feed changed: read it (then it is on the hub's dirty list) */
  bool auth_dirty;  /* its account changed: check the epoch (then on the auth list) */
  struct h_stream_user *next; /* in the bucket */
  struct h_stream_user *dirty_next, *auth_next;
};

struct h_stream_hub {
  struct h_app *app;          /* borrowed */
  pthread_mutex_t mu;
  pthread_cond_t cv;          /* the pump waits on it */
  struct h_stream_user **buckets;
  size_t mask;
  int streams;                /* registered (gone ones until swept) */
  atomic_int live;            /* held by a connection */
  atomic_int gone;            /* released since the last sweep */
  atomic_long overflowed, expired; /* streams ended by stream.overflow, by session.expired */
  bool any_dirty, any_auth_dirty; /* the lists below are not empty */
  struct h_stream_user *dirty_list, *auth_list; /* marked users, each once */
  bool closing;
  atomic_bool stop;
  pthread_t pump, sub;
  int sub_fd;                 /* the subscriber's socket (-1 none), under mu */
};

long long h_stream_now_ms(void);

/* The user entry of id (lowercase), or NULL; hub->mu held. */
struct h_stream_user *h_stream_user_find(struct h_stream_hub *hub, const char *id);

/* Every registered user and its streams, for f(user, arg); hub->mu held. */
void h_stream_each_user(struct h_stream_hub *hub, void (*f)(struct h_stream_user *, void *),
                        void *arg);

/* Queues n bytes of text on st and wakes its connection. When they do not fit, st ends with
 * stream.overflow instead. Ended streams take nothing. false when nothing was queued. */
bool h_stream_push(struct h_stream *st, const char *text, size_t n);

/* Queues the final event (event, data; id: the stream's position) and ends st. */
void h_stream_finish(struct h_stream *st, const char *event, const char *data);

/* True once st takes no more events. */
bool h_stream_ended(struct h_stream *st);

/* Marks u for a read of its feed (auth: for an account check), once; hub->mu held. The
 * pump's wait is signalled by the caller. */
void h_stream_mark(struct h_stream_hub *hub, struct h_stream_user *u, bool auth);

/* Marks every user's feed to be read again (after the subscriber reconnected); hub->mu
 * held. */
void h_stream_mark_all(struct h_stream_hub *hub);

/* Drops the released streams and the unmarked users left without one; hub->mu held. */
void h_stream_sweep(struct h_stream_hub *hub);

/* The threads (stream_pump.c, stream_sub.c). */
void *h_stream_pump_main(void *hub);
void *h_stream_sub_main(void *hub);

#endif

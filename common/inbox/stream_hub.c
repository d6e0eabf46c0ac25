/* stream_hub.c - the registry of open streams and their queues (stream_hub.h). */
#include "inbox/stream_hub_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"

long long h_stream_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t bucket_of(const struct h_stream_hub *hub, const char *id) {
  return (size_t)h_fnv1a(id) & hub->mask;
}

struct h_stream_user *h_stream_user_find(struct h_stream_hub *hub, const char *id) {
  for (struct h_stream_user *u = hub->buckets[bucket_of(hub, id)]; u != NULL; u = u->next) {
    if (strcmp(u->id, id) == 0) {
      return u;
    }
  }
  return NULL;
}

void h_stream_each_user(struct h_stream_hub *hub, void (*f)(struct h_stream_user *, void *),
                        void *arg) {
  for (size_t b = 0; b <= hub->mask; b++) {
    for (struct h_stream_user *u = hub->buckets[b]; u != NULL; u = u->next) {
      f(u, arg);
    }
  }
}

void h_stream_mark(struct h_stream_hub *hub, struct h_stream_user *u, bool auth) {
  if (auth && !u->auth_dirty) {
    u->auth_dirty = true;
    u->auth_next = hub->auth_list;
    hub->auth_list = u;
    hub->any_auth_dirty = true;
  } else if (!auth && !u->dirty) {
    u->dirty = true;
    u->dirty_next = hub->dirty_list;
    hub->dirty_list = u;
    hub->any_dirty = true;
  }
}

static void mark_one(struct h_stream_user *u, void *hub) { h_stream_mark(hub, u, false); }

void h_stream_mark_all(struct h_stream_hub *hub) {
  h_stream_each_user(hub, mark_one, hub);
  pthread_cond_signal(&hub->cv);
}

struct h_stream_hub *h_stream_hub_start(struct h_app *app) {
  struct h_stream_hub *hub = h_calloc(1, sizeof(*hub));
  hub->app = app;
  size_t n = 1024;
  while (n < (size_t)app->cfg->stream_max) {
    n <<= 1;
  }
  hub->buckets = h_calloc(n, sizeof(*hub->buckets));
  hub->mask = n - 1;
  hub->sub_fd = -1;
  pthread_mutex_init(&hub->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&hub->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_create(&hub->pump, NULL, h_stream_pump_main, hub);
  pthread_create(&hub->sub, NULL, h_stream_sub_main, hub);
  return hub;
}

static void stream_unref(struct h_stream *st) {
  if (atomic_fetch_sub(&st->refs, 1) == 1) {
    h_sse_buf_free(&st->buf);
    pthread_mutex_destroy(&st->mu);
    free(st);
  }
}

/* Wakes st's connection if it sleeps on an empty queue; st->mu held. */
static void wake(struct h_stream *st) {
  if (st->waiting) {
    st->waiting = false;
    st->ops->resume(st->conn);
  }
}

bool h_stream_ended(struct h_stream *st) {
  pthread_mutex_lock(&st->mu);
  bool ended = st->ending;
  pthread_mutex_unlock(&st->mu);
  return ended;
}

/* Queues the final event and ends st; st->mu held. */
static void finish_locked(struct h_stream *st, const char *event, const char *data) {
  if (st->ending) {
    return;
  }
  size_t n = 0;
  char *text = h_sse_event(st->last_seq, event, data, &n);
  h_sse_buf_append(&st->buf, text, n, 0); /* H_STREAM_RESERVE keeps room for it */
  free(text);
  st->ending = true;
  wake(st);
}

bool h_stream_push(struct h_stream *st, const char *text, size_t n) {
  pthread_mutex_lock(&st->mu);
  bool queued = false;
  if (!st->ending) {
    queued = h_sse_buf_append(&st->buf, text, n, H_STREAM_RESERVE);
    if (queued) {
      wake(st);
    } else {
      h_log(H_LOG_INFO, "event", NULL, "stream of user %s overflowed (%zu bytes queued)",
            st->grant.user_id, h_sse_buf_used(&st->buf));
      finish_locked(st, "stream.overflow", "{\"reason\":\"slow_client\"}");
      atomic_fetch_add(&st->hub->overflowed, 1);
    }
  }
  pthread_mutex_unlock(&st->mu);
  return queued;
}

void h_stream_finish(struct h_stream *st, const char *event, const char *data) {
  pthread_mutex_lock(&st->mu);
  if (!st->ending && strcmp(event, "session.expired") == 0) {
    atomic_fetch_add(&st->hub->expired, 1);
  }
  finish_locked(st, event, data);
  pthread_mutex_unlock(&st->mu);
}

/* The opening text of a stream: "retry:", stream.reset when asked, and for a fresh one the
 * unread count. */
static void queue_opening(struct h_stream *st, const struct h_stream_start *s) {
  static const char retry[] = "retry: 3000\n\n";
  h_sse_buf_append(&st->buf, retry, sizeof(retry) - 1, 0);
  if (s->reset) {
    size_t n = 0;
    char *text = h_sse_event(s->head, "stream.reset", "{\"reason\":\"unknown_event_id\"}", &n);
    h_sse_buf_append(&st->buf, text, n, 0);
    free(text);
  }
  if (s->last_event_id < 0) {
    char data[48];
    snprintf(data, sizeof(data), "{\"unread\":%ld}", s->unread);
    size_t n = 0;
    char *text = h_sse_event(s->head, "unread_count", data, &n);
    h_sse_buf_append(&st->buf, text, n, 0);
    free(text);
  }
}

static struct h_stream *stream_new(struct h_stream_hub *hub, const struct h_stream_start *s,
                                   const struct h_stream_conn_ops *ops, void *conn) {
  struct h_stream *st = h_calloc(1, sizeof(*st));
  pthread_mutex_init(&st->mu, NULL);
  atomic_init(&st->refs, 2);
  atomic_init(&st->gone, false);
  h_sse_buf_init(&st->buf, (size_t)hub->app->cfg->stream_buffer_bytes);
  st->hub = hub;
  st->ops = ops;
  st->conn = conn;
  st->grant = s->grant;
  for (char *p = st->grant.user_id; *p != '\0'; p++) {
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  }
  bool fresh = s->last_event_id < 0;
  st->last_seq = fresh ? s->head : s->last_event_id;
  st->unread = fresh ? s->unread : -1;
  st->need_count = !fresh;
  st->next_hb_ms = h_stream_now_ms() + (long long)hub->app->cfg->stream_heartbeat_s * 1000;
  queue_opening(st, s);
  return st;
}

h_result h_stream_hub_open(struct h_stream_hub *hub, const struct h_stream_start *s,
                           const struct h_stream_conn_ops *ops, void *conn,
                           struct h_stream **out) {
  *out = NULL;
  pthread_mutex_lock(&hub->mu);
  if (hub->closing || hub->streams >= hub->app->cfg->stream_max) {
    pthread_mutex_unlock(&hub->mu);
    return H_ERR_UNAVAILABLE;
  }
  struct h_stream *st = stream_new(hub, s, ops, conn);
  struct h_stream_user *u = h_stream_user_find(hub, st->grant.user_id);
  if (u == NULL) {
    u = h_calloc(1, sizeof(*u));
    snprintf(u->id, sizeof(u->id), "%s", st->grant.user_id);
    size_t b = bucket_of(hub, u->id);
    u->next = hub->buckets[b];
    hub->buckets[b] = u;
  }
  st->next = u->streams;
  u->streams = st;
  hub->streams++;
  atomic_fetch_add(&hub->live, 1);
  if (s->last_event_id >= 0) { /* replay what it missed */
    h_stream_mark(hub, u, false);
    pthread_cond_signal(&hub->cv);
  }
  pthread_mutex_unlock(&hub->mu);
  *out = st;
  return H_OK;
}

ssize_t h_stream_read(struct h_stream *st, char *out, size_t max) {
  pthread_mutex_lock(&st->mu);
  ssize_t n = (ssize_t)h_sse_buf_take(&st->buf, out, max);
  if (n == 0 && st->ending) {
    n = -1;
  } else if (n == 0) {
    st->waiting = true;
    st->ops->suspend(st->conn);
  }
  pthread_mutex_unlock(&st->mu);
  return n;
}

/* Only atomics here: MHD may call this while holding its own locks. */
void h_stream_release(struct h_stream *st) {
  struct h_stream_hub *hub = st->hub;
  atomic_store(&st->gone, true);
  atomic_fetch_sub(&hub->live, 1);
  atomic_fetch_add(&hub->gone, 1);
  pthread_cond_signal(&hub->cv);
  stream_unref(st);
}

/* Drops u's released streams; hub->mu held. */
static void sweep_user(struct h_stream_hub *hub, struct h_stream_user *u) {
  struct h_stream **pp = &u->streams;
  while (*pp != NULL) {
    struct h_stream *st = *pp;
    if (atomic_load(&st->gone)) {
      *pp = st->next;
      hub->streams--;
      stream_unref(st);
    } else {
      pp = &st->next;
    }
  }
}

void h_stream_sweep(struct h_stream_hub *hub) {
  atomic_store(&hub->gone, 0);
  for (size_t b = 0; b <= hub->mask; b++) {
    struct h_stream_user **pp = &hub->buckets[b];
    while (*pp != NULL) {
      struct h_stream_user *u = *pp;
      sweep_user(hub, u);
      if (u->streams == NULL && !u->dirty && !u->auth_dirty) { /* (a marked one is on a list) */
        *pp = u->next;
        free(u);
      } else {
        pp = &u->next;
      }
    }
  }
}

static void end_user(struct h_stream_user *u, void *arg) {
  (void)arg;
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    pthread_mutex_lock(&st->mu);
    st->ending = true; /* no final event: the client reconnects to another process */
    wake(st);
    pthread_mutex_unlock(&st->mu);
  }
}

int h_stream_hub_close_all(struct h_stream_hub *hub, int wait_ms) {
  if (hub == NULL) {
    return 0;
  }
  pthread_mutex_lock(&hub->mu);
  hub->closing = true;
  h_stream_each_user(hub, end_user, NULL);
  pthread_mutex_unlock(&hub->mu);
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (int waited = 0; waited < wait_ms && atomic_load(&hub->live) > 0; waited += 10) {
    nanosleep(&tick, NULL);
  }
  return atomic_load(&hub->live);
}

int h_stream_hub_count(struct h_stream_hub *hub) {
  return hub != NULL ? atomic_load(&hub->live) : 0;
}

void h_stream_hub_ends(struct h_stream_hub *hub, long *overflowed, long *expired) {
  *overflowed = hub != NULL ? atomic_load(&hub->overflowed) : 0;
  *expired = hub != NULL ? atomic_load(&hub->expired) : 0;
}

void h_stream_hub_stop(struct h_stream_hub *hub) {
  if (hub == NULL) {
    return;
  }
  pthread_mutex_lock(&hub->mu);
  atomic_store(&hub->stop, true);
  if (hub->sub_fd >= 0) {
    shutdown(hub->sub_fd, SHUT_RDWR); /* ends the subscriber's blocking read */
  }
  pthread_cond_broadcast(&hub->cv);
  pthread_mutex_unlock(&hub->mu);
  pthread_join(hub->pump, NULL);
  pthread_join(hub->sub, NULL);
  h_stream_sweep(hub);
  for (size_t b = 0; b <= hub->mask; b++) { /* streams a connection still holds */
    for (struct h_stream_user *u = hub->buckets[b], *next = NULL; u != NULL; u = next) {
      next = u->next;
      for (struct h_stream *st = u->streams, *sn = NULL; st != NULL; st = sn) {
        sn = st->next;
        stream_unref(st);
      }
      free(u);
    }
  }
  free(hub->buckets);
  pthread_cond_destroy(&hub->cv);
  pthread_mutex_destroy(&hub->mu);
  free(hub);
}

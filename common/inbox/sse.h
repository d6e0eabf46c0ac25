/* sse.h - Server-Sent Events framing and the bounded byte buffer of one open stream.
 *
 * Pure code (no I/O, no locks): the stream hub (stream_hub.h) formats events with
 * h_sse_event and queues them in a struct h_sse_buf that never grows past its limit. */
#ifndef HERALD_SSE_H
#define HERALD_SSE_H

#include <stdbool.h>
#include <stddef.h>

/* One event as SSE text: "id: <id>\nevent: <event>\ndata: <line>\n...\n\n" (id < 0: no id
 * line; every line of data gets its own "data: " prefix, "\r" is dropped). A new string the
 * caller frees; *len receives its length. */
char *h_sse_event(long long id, const char *event, const char *data, size_t *len);

/* A byte queue holding at most limit bytes. Storage grows on demand (from 256 bytes,
 * doubling) and is released whenever the queue drains, so an idle stream holds none. */
struct h_sse_buf {
  char *data; /* owned, NULL while empty */
  size_t off, len, cap, limit;
};

/* An empty queue of at most limit bytes. */
void h_sse_buf_init(struct h_sse_buf *b, size_t limit);
void h_sse_buf_free(struct h_sse_buf *b);

/* Queued and not yet taken. */
size_t h_sse_buf_used(const struct h_sse_buf *b);

/* Appends n bytes of s (copied) unless that would leave fewer than reserve bytes of the limit
 * free; false then, and nothing is appended. */
bool h_sse_buf_append(struct h_sse_buf *b, const char *s, size_t n, size_t reserve);

/* Moves up to max queued bytes into out; returns how many. */
size_t h_sse_buf_take(struct h_sse_buf *b, char *out, size_t max);

#endif

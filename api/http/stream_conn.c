/* stream_conn.c - see stream_conn.h. */
#include "http/stream_conn.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define BUCKETS 4096 /* power of two */
#define STRIPES 64

struct entry {
  uint64_t key;
  struct MHD_Connection *conn;
  struct entry *next;
};

/* Process-wide: MHD's notification has no way to reach a handler's state, and peer
 * addresses are unique among the open connections of one listener. */
static struct entry *buckets[BUCKETS];
static pthread_mutex_t locks[STRIPES];
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;

static void locks_init(void) {
  for (int i = 0; i < STRIPES; i++) {
    pthread_mutex_init(&locks[i], NULL);
  }
}

static bool key_of(const struct sockaddr *sa, uint64_t *key) {
  if (sa == NULL || sa->sa_family != AF_INET) {
    return false;
  }
  const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
  *key = ((uint64_t)in->sin_addr.s_addr << 16) | in->sin_port;
  return true;
}

static size_t bucket(uint64_t key) {
  pthread_once(&locks_once, locks_init);
  return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 52) & (BUCKETS - 1);
}

static const struct sockaddr *peer(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  return info != NULL ? info->client_addr : NULL;
}

void h_stream_conn_started(struct MHD_Connection *c) {
  uint64_t key;
  if (!key_of(peer(c), &key)) {
    return;
  }
  struct entry *e = h_malloc(sizeof(*e));
  e->key = key;
  e->conn = c;
  size_t b = bucket(key);
  pthread_mutex_lock(&locks[b % STRIPES]);
  e->next = buckets[b];
  buckets[b] = e;
  pthread_mutex_unlock(&locks[b % STRIPES]);
}

void h_stream_conn_closed(struct MHD_Connection *c) {
  uint64_t key;
  if (!key_of(peer(c), &key)) {
    return;
  }
  size_t b = bucket(key);
  pthread_mutex_lock(&locks[b % STRIPES]);
  for (struct entry **pp = &buckets[b]; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->conn == c) {
      struct entry *e = *pp;
      *pp = e->next;
      free(e);
      break;
    }
  }
  pthread_mutex_unlock(&locks[b % STRIPES]);
}

struct MHD_Connection *h_stream_conn_find(const struct sockaddr *addr) {
  uint64_t key;
  if (!key_of(addr, &key)) {
    return NULL;
  }
  size_t b = bucket(key);
  struct MHD_Connection *found = NULL;
  pthread_mutex_lock(&locks[b % STRIPES]);
  for (struct entry *e = buckets[b]; e != NULL; e = e->next) {
    if (e->key == key) {
      found = e->conn;
      break;
    }
  }
  pthread_mutex_unlock(&locks[b % STRIPES]);
  return found;
}

static void suspend(void *conn) { MHD_suspend_connection(conn); }
static void resume(void *conn) { MHD_resume_connection(conn); }

const struct h_stream_conn_ops h_stream_conn_ops = {suspend, resume};

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  ssize_t n = h_stream_read(cls, buf, max);
  return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void free_cb(void *cls) { h_stream_release(cls); }

bool h_stream_conn_respond(struct _u_response *response, struct h_stream *st) {
  if (ulfius_set_stream_response(response, 200, read_cb, free_cb, U_STREAM_SIZE_UNKNOWN, 4096,
                                 st) != U_OK) {
    h_stream_release(st);
    return false;
  }
  u_map_put(response->map_header, "Content-Type", "text/event-stream; charset=utf-8");
  u_map_put(response->map_header, "Cache-Control", "no-cache");
  u_map_put(response->map_header, "X-Accel-Buffering", "no");
  return true;
}

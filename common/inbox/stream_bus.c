/* stream_bus.c - see stream_bus.h. */
#include "inbox/stream_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/copy_cache.h"
#include "core/log.h"
#include "store/redis.h"

int h_stream_shard(const char *user_id, int shards) {
  unsigned int h = 2166136261u;
  for (const char *p = user_id; *p != '\0'; p++) {
    unsigned char c = (unsigned char)*p;
    h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 16777619u;
  }
  return shards > 0 ? (int)(h % (unsigned int)shards) : 0;
}

struct shard_msg {
  char channel[48];
  char *text; /* owned: "<kind>:id,id" */
  size_t len, cap;
};

static void msg_add(struct shard_msg *m, char kind, const char *user_id) {
  size_t need = strlen(user_id) + 3;
  if (m->len + need >= m->cap) {
    m->cap = (m->len + need) * 2 + 64;
    m->text = h_realloc(m->text, m->cap);
  }
  if (m->len == 0) {
    m->len = (size_t)snprintf(m->text, m->cap, "%c:%s", kind, user_id);
  } else if (strstr(m->text + 2, user_id) == NULL) {
    m->len += (size_t)snprintf(m->text + m->len, m->cap - m->len, ",%s", user_id);
  }
}

/* Sends the non-empty messages of msgs[0..n) through r in one pipeline. */
static void send_all(struct h_redis *r, struct shard_msg *msgs, int n) {
  int count = 0;
  int *argc = h_malloc((size_t)n * sizeof(*argc));
  const char ***argv = h_malloc((size_t)n * sizeof(*argv));
  const char **args = h_malloc((size_t)n * 3 * sizeof(*args));
  redisReply **replies = h_calloc((size_t)n, sizeof(*replies));
  for (int i = 0; i < n; i++) {
    if (msgs[i].len == 0) {
      continue;
    }
    const char **a = &args[count * 3];
    a[0] = "PUBLISH";
    a[1] = msgs[i].channel;
    a[2] = msgs[i].text;
    argv[count] = a;
    argc[count++] = 3;
  }
  if (count > 0 && h_redis_pipeline(r, count, argc, argv, replies) == H_ERR_UNAVAILABLE) {
    h_log_warning("h_stream_publish: %d notice(s) not published (Redis unavailable)", count);
  }
  for (int i = 0; i < count; i++) {
    if (replies[i] != NULL) {
      freeReplyObject(replies[i]);
    }
  }
  free(replies);
  free(args);
  free(argv);
  free(argc);
}

void h_stream_publish_via(struct h_redis *r, int shards, char kind, const char *const *users,
                          size_t n) {
  if (n == 0 || shards <= 0) {
    return;
  }
  struct shard_msg *msgs = h_calloc((size_t)shards, sizeof(*msgs));
  for (size_t i = 0; i < n; i++) {
    int s = h_stream_shard(users[i], shards);
    snprintf(msgs[s].channel, sizeof(msgs[s].channel), H_STREAM_CHANNEL_PREFIX "%d", s);
    msg_add(&msgs[s], kind, users[i]);
  }
  send_all(r, msgs, shards);
  for (int i = 0; i < shards; i++) {
    free(msgs[i].text);
  }
  free(msgs);
}

void h_stream_publish_all(struct h_redis *r) {
  const char *argv[] = {"PUBLISH", H_STREAM_CHANNEL_PREFIX "0", "A:"};
  if (h_redis_argv(r, NULL, 3, argv) == H_ERR_UNAVAILABLE) {
    h_log_warning("h_stream_publish_all: not published (Redis unavailable)");
  }
}

void h_stream_publish(struct h_app *app, char kind, const char *const *users, size_t n) {
  for (size_t i = 0; i < n; i++) { /* this process's copies go before the writer answers */
    h_copy_cache_drop(app->feeds, users[i]);
  }
  if (n == 0 || app->redis == NULL) {
    return;
  }
  struct h_redis *r = NULL;
  if (h_redis_acquire(app->redis, &r) != H_OK) {
    h_log_warning("h_stream_publish: %zu user(s) not announced (no Redis connection)", n);
    return;
  }
  h_stream_publish_via(r, app->cfg->stream_shards, kind, users, n);
  h_redis_release(app->redis, r);
}

void h_stream_publish_one(struct h_app *app, char kind, const char *user_id) {
  const char *users[] = {user_id};
  h_stream_publish(app, kind, users, 1);
}

/* stream_sub.c - the hub's subscriber thread: every shard channel of the change notices
 * (stream_bus.h), on a Redis connection of its own, marking the users they name and dropping
 * their copies of the feed's first page (feed_service.h), whose table it switches on once
 * every subscription is confirmed and off when the connection is lost. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/alloc.h"
#include "core/copy_cache.h"
#include "core/log.h"
#include "inbox/stream_bus.h"
#include "inbox/stream_hub_impl.h"
#include "store/redis.h"
#include "store/redis_sentinel.h"

/* Marks the users of one notice "<kind>:id,id,..."; hub->mu taken here. */
static void on_notice(struct h_stream_hub *hub, const char *text, size_t len) {
  if (len == 2 && text[0] == H_STREAM_KIND_ALL && text[1] == ':') {
    h_copy_cache_drop_all(hub->app->feeds);
    pthread_mutex_lock(&hub->mu);
    h_stream_mark_all(hub);
    pthread_mutex_unlock(&hub->mu);
    return;
  }
  if (len < 3 || text[1] != ':') {
    return;
  }
  bool account = text[0] == H_STREAM_KIND_ACCOUNT;
  pthread_mutex_lock(&hub->mu);
  const char *p = text + 2, *end = text + len;
  while (p < end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    size_t n = (size_t)((comma != NULL ? comma : end) - p);
    char id[37];
    if (n == 36) {
      for (size_t i = 0; i < n; i++) {
        id[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
      }
      id[36] = '\0';
      h_copy_cache_drop(hub->app->feeds, id);
      struct h_stream_user *u = h_stream_user_find(hub, id);
      if (u != NULL) {
        h_stream_mark(hub, u, account);
      }
    }
    p += n + 1;
  }
  if (hub->any_dirty || hub->any_auth_dirty) {
    pthread_cond_signal(&hub->cv);
  }
  pthread_mutex_unlock(&hub->mu);
}

/* SUBSCRIBEs r to every shard; false when Redis refused or is down. */
static bool subscribe(struct h_stream_hub *hub, struct h_redis *r) {
  redisReply *pong = NULL;
  if (h_redis_cmd(r, &pong, "PING") != H_OK) {
    return false;
  }
  freeReplyObject(pong);
  int shards = hub->app->cfg->stream_shards;
  const char **argv = h_malloc((size_t)(shards + 1) * sizeof(*argv));
  char (*names)[32] = h_malloc((size_t)shards * sizeof(*names));
  argv[0] = "SUBSCRIBE";
  for (int i = 0; i < shards; i++) {
    snprintf(names[i], sizeof(names[i]), H_STREAM_CHANNEL_PREFIX "%d", i);
    argv[i + 1] = names[i];
  }
  struct timeval forever = {0, 0};
  redisSetTimeout(r->ctx, forever); /* the read blocks until a notice or the stop */
  bool ok = redisAppendCommandArgv(r->ctx, shards + 1, argv, NULL) == REDIS_OK;
  free(argv);
  free(names);
  return ok;
}

/* Reads notices until the connection fails or the hub stops. The feed copies go on when
 * Redis has confirmed the last shard's SUBSCRIBE: from then on no notice can be missed. */
static void listen_loop(struct h_stream_hub *hub, struct h_redis *r) {
  int shards = hub->app->cfg->stream_shards;
  for (;;) {
    void *raw = NULL;
    if (redisGetReply(r->ctx, &raw) != REDIS_OK || raw == NULL) {
      return;
    }
    redisReply *m = raw;
    if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
        m->element[0]->type == REDIS_REPLY_STRING && strcmp(m->element[0]->str, "message") == 0 &&
        m->element[2]->type == REDIS_REPLY_STRING) {
      on_notice(hub, m->element[2]->str, m->element[2]->len);
    } else if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
               m->element[0]->type == REDIS_REPLY_STRING &&
               strcmp(m->element[0]->str, "subscribe") == 0 &&
               m->element[2]->type == REDIS_REPLY_INTEGER && m->element[2]->integer == shards) {
      h_copy_cache_set_online(hub->app->feeds, true);
    }
    freeReplyObject(m);
  }
}

/* Sleeps ms unless the hub stops meanwhile. */
static void pause_ms(struct h_stream_hub *hub, long ms) {
  for (long waited = 0; waited < ms && !atomic_load(&hub->stop); waited += 50) {
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
}

void *h_stream_sub_main(void *arg) {
  struct h_stream_hub *hub = arg;
  pthread_setname_np(pthread_self(), "stream-sub"); /* top -H, perf --sort comm */
  struct h_redis_target target;
  char *error = NULL;
  h_redis_target_from_config(hub->app->cfg, &target, &error); /* validated at start */
  free(error);
  struct h_redis r;
  h_redis_init(&r, &target);
  bool warned = false;
  while (!atomic_load(&hub->stop)) {
    if (!subscribe(hub, &r)) {
      if (!warned) {
        h_log_warning("stream subscriber: Redis unavailable; streams see changes on reconnect");
      }
      warned = true;
      h_redis_close(&r);
      pause_ms(hub, 1000);
      continue;
    }
    warned = false;
    pthread_mutex_lock(&hub->mu);
    hub->sub_fd = r.ctx->fd;
    h_stream_mark_all(hub); /* notices may have been missed while away */
    bool stopping = atomic_load(&hub->stop);
    pthread_mutex_unlock(&hub->mu);
    if (!stopping) {
      listen_loop(hub, &r);
    }
    h_copy_cache_set_online(hub->app->feeds, false); /* notices may be missed from here */
    pthread_mutex_lock(&hub->mu);
    hub->sub_fd = -1;
    pthread_mutex_unlock(&hub->mu);
    h_redis_close(&r);
    pause_ms(hub, 200);
  }
  h_redis_close(&r);
  return NULL;
}

/* stream_ticket.c - see stream_ticket.h. */
#include "inbox/stream_ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "crypto/crypto.h"
#include "store/redis.h"

#define TICKET_BYTES 32
#define TICKET_CHARS 43

bool h_stream_ticket_well_formed(const char *s) {
  if (s == NULL || strlen(s) != TICKET_CHARS) {
    return false;
  }
  for (const char *p = s; *p != '\0'; p++) {
    char c = *p;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

static void key_of(const char *ticket, char key[96]) {
  char hex[65];
  h_sha256_hex(ticket, strlen(ticket), hex);
  snprintf(key, 96, "herald:stream:ticket:%s", hex);
}

h_result h_stream_ticket_issue(struct h_app *app, const struct h_stream_grant *g, char **ticket,
                               long long *expires_at) {
  *ticket = NULL;
  long long now = (long long)time(NULL);
  long long ttl = app->cfg->stream_ticket_ttl_s;
  if (g->expires - now < ttl) {
    ttl = g->expires - now;
  }
  if (ttl < 1) {
    return H_ERR_UNAUTHORIZED;
  }
  char *t = h_random_token(TICKET_BYTES);
  char key[96], value[160], ex[24];
  key_of(t, key);
  snprintf(value, sizeof(value), "%s\t%s\t%ld\t%lld", g->user_id, g->session_id, g->epoch,
           g->expires);
  snprintf(ex, sizeof(ex), "%lld", ttl);
  const char *argv[] = {"SET", key, value, "EX", ex};
  struct h_redis *r = NULL;
  h_result res = h_redis_acquire(app->redis, &r);
  if (res == H_OK) {
    res = h_redis_argv(r, NULL, 5, argv);
    h_redis_release(app->redis, r);
  }
  if (res != H_OK) {
    free(t);
    return H_ERR_UNAVAILABLE;
  }
  *ticket = t;
  *expires_at = now + ttl;
  return H_OK;
}

/* Parses "user\tsession\tepoch\texpires" into out. */
static bool parse_grant(const char *s, struct h_stream_grant *out) {
  memset(out, 0, sizeof(*out));
  return sscanf(s, "%36[^\t]\t%36[^\t]\t%ld\t%lld", out->user_id, out->session_id, &out->epoch,
                &out->expires) == 4 ||
         sscanf(s, "%36[^\t]\t\t%ld\t%lld", out->user_id, &out->epoch, &out->expires) == 3;
}

h_result h_stream_ticket_redeem(struct h_app *app, const char *ticket,
                                struct h_stream_grant *out) {
  if (!h_stream_ticket_well_formed(ticket)) {
    return H_ERR_UNAUTHORIZED;
  }
  char key[96];
  key_of(ticket, key);
  const char *argv[] = {"GETDEL", key};
  struct h_redis *r = NULL;
  redisReply *reply = NULL;
  h_result res = h_redis_acquire(app->redis, &r);
  if (res == H_OK) {
    res = h_redis_argv(r, &reply, 2, argv);
    h_redis_release(app->redis, r);
  }
  if (res != H_OK) {
    if (reply != NULL) {
      freeReplyObject(reply);
    }
    return H_ERR_UNAVAILABLE;
  }
  bool ok = reply->type == REDIS_REPLY_STRING && parse_grant(reply->str, out) &&
            out->expires > (long long)time(NULL);
  freeReplyObject(reply);
  return ok ? H_OK : H_ERR_UNAUTHORIZED;
}

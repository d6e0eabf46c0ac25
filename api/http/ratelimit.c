/* ratelimit.c - route groups, their limits and the 429 answer. */
#include "http/ratelimit.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "net/forwarded.h"
#include "store/rate_counter.h"

#define AUTH_PREFIX "/api/v1/auth/"
#define MFA_PREFIX "/api/v1/users/me/mfa/"

/* The limits one request is counted against; a limit of 0 is not counted. */
struct rl_plan {
  char bucket[64];
  int user_limit; /* keyed by rq->user_id */
  int ip_limit;   /* keyed by the client's address (IPv6: its /64) */
  int window_s;
};

static bool exempt(const struct h_req *rq, const char *path) {
  return rq->probe || strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
         strcmp(path, "/metrics") == 0;
}

/* Fills plan for rq on route; false when the route is not limited. */
static bool plan_for(const struct h_req *rq, const struct h_route *route, struct rl_plan *plan) {
  const struct h_config *cfg = rq->app->cfg;
  const char *path = route->path;
  memset(plan, 0, sizeof(*plan));
  plan->window_s = cfg->rate_window_s;
  if (exempt(rq, path)) {
    return false;
  }
  if (rq->authenticated && strcmp(rq->role, "service") == 0) {
    snprintf(plan->bucket, sizeof(plan->bucket), "service");
    plan->user_limit = cfg->rate_service;
  } else if (strncmp(path, AUTH_PREFIX, strlen(AUTH_PREFIX)) == 0) {
    snprintf(plan->bucket, sizeof(plan->bucket), "auth:%s", path + strlen(AUTH_PREFIX));
    plan->ip_limit = cfg->auth_rate_limit;
    plan->window_s = cfg->auth_rate_window_s;
    if (strcmp(path, "/api/v1/auth/verify-email/resend") == 0) {
      plan->user_limit = cfg->rate_verify_resend_user; /* each one sends an e-mail */
    }
  } else if (strcmp(path, "/api/v1/users/me/password") == 0) {
    snprintf(plan->bucket, sizeof(plan->bucket), "password");
    plan->user_limit = cfg->rate_password_user;
    plan->ip_limit = cfg->auth_rate_limit;
    plan->window_s = cfg->auth_rate_window_s;
  } else if (strncmp(path, MFA_PREFIX, strlen(MFA_PREFIX)) == 0) {
    /* each second-factor code check costs a guess: the auth limit, per IP and endpoint */
    snprintf(plan->bucket, sizeof(plan->bucket), "mfa:%s", path + strlen(MFA_PREFIX));
    plan->ip_limit = cfg->auth_rate_limit;
    plan->window_s = cfg->auth_rate_window_s;
  } else if (strncmp(path, "/api/v1/webhooks/", 17) == 0) {
    snprintf(plan->bucket, sizeof(plan->bucket), "webhooks");
    plan->ip_limit = cfg->rate_webhooks_ip;
  } else if (route->auth == H_AUTH_ADMIN) {
    snprintf(plan->bucket, sizeof(plan->bucket), "admin");
    plan->user_limit = cfg->rate_admin_user;
    plan->ip_limit = cfg->rate_admin_ip;
  } else if (strcmp(route->method, "GET") == 0) {
    snprintf(plan->bucket, sizeof(plan->bucket), "read");
    plan->user_limit = cfg->rate_read_user;
    plan->ip_limit = cfg->rate_read_ip;
  } else {
    snprintf(plan->bucket, sizeof(plan->bucket), "write");
    plan->user_limit = cfg->rate_write_user;
    plan->ip_limit = cfg->rate_write_ip;
  }
  if (!rq->authenticated) {
    plan->user_limit = 0;
  }
  return plan->user_limit > 0 || plan->ip_limit > 0;
}

/* One warning every 10 s at most while the in-process limiter counts. */
static void note_local(const struct h_req *rq) {
  static atomic_long last;
  long now = (long)time(NULL), seen = atomic_load(&last);
  if (now - seen >= 10 && atomic_compare_exchange_strong(&last, &seen, now)) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "rate limits counted in process: Redis unavailable");
  }
}

static void reply_limited(struct h_req *rq, const char *bucket, long limit, long reset_s) {
  char value[24];
  u_map_remove_from_key(rq->response->map_header, "WWW-Authenticate");
  snprintf(value, sizeof(value), "%ld", reset_s);
  h_reply_header(rq, "Retry-After", value);
  h_reply_header(rq, "RateLimit-Reset", value);
  snprintf(value, sizeof(value), "%ld", limit);
  h_reply_header(rq, "RateLimit-Limit", value);
  h_reply_header(rq, "RateLimit-Remaining", "0");
  h_log(H_LOG_WARNING, "security", rq->request_id, "rate limit %s exceeded by %s%s%s", bucket,
        rq->ip, rq->authenticated ? " as " : "", rq->authenticated ? rq->user_id : "");
  h_reply_error(rq, H_ERR_RATE_LIMITED, "rate_limited",
                "Too many requests; retry after the time in Retry-After.", NULL);
}

bool h_rate_limit_route(struct h_req *rq, const struct h_route *route) {
  struct rl_plan plan;
  if (!plan_for(rq, route, &plan)) {
    return true;
  }
  char ip_key[160], user_key[160], client[64];
  struct h_rate_hit hits[2];
  int limits[2], n = 0;
  if (plan.ip_limit > 0) {
    h_forwarded_bucket(rq->ip[0] != '\0' ? rq->ip : "unknown", client, sizeof(client));
    snprintf(ip_key, sizeof(ip_key), "herald:rl:%s:ip:%s", plan.bucket, client);
    hits[n] = (struct h_rate_hit){.key = ip_key, .window_s = plan.window_s,
                                  .limit = plan.ip_limit};
    limits[n++] = plan.ip_limit;
  }
  if (plan.user_limit > 0) {
    snprintf(user_key, sizeof(user_key), "herald:rl:%s:u:%s", plan.bucket, rq->user_id);
    hits[n] = (struct h_rate_hit){.key = user_key, .window_s = plan.window_s,
                                  .limit = plan.user_limit};
    limits[n++] = plan.user_limit;
  }
  bool local = false;
  h_rate_count(rq->app->redis, rq->app->rate_local, rq->app->rate_leases, hits, n, &local);
  if (local) {
    note_local(rq);
  }
  for (int i = 0; i < n; i++) {
    if (hits[i].count > limits[i]) {
      reply_limited(rq, plan.bucket, limits[i], hits[i].reset_s);
      return false;
    }
  }
  return true;
}

/* health.c - liveness, readiness, metrics and the OpenAPI document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "store/group_commit.h"
#include "store/redis.h"
#include "payments/reports/summary_service.h"
#include "http/health.h"
#include "http/offload.h"

#include "inbox/stream_hub.h"
#include "users/profile_cache.h"
#include "http/routes.h"
#include "core/version.h"

extern const struct herald_embedded herald_openapi[];

void h_health_get(struct h_req *rq) {
  h_reply_json(rq, 200, json_pack("{sss{ssssss}}", "status", "ok", "version", "version",
                                  h_version_number, "commit", h_version_commit, "build_type",
                                  h_version_build_type));
}

void h_ready_get(struct h_req *rq) {
  h_result db = h_db_ping(rq->app->db);
  h_result redis = h_redis_ping(rq->app->redis);
  bool ready = db == H_OK && redis == H_OK;
  json_t *body = json_pack("{sss{ssss}}", "status", ready ? "ready" : "unavailable", "checks",
                           "postgres", db == H_OK ? "ok" : "down", "redis",
                           redis == H_OK ? "ok" : "down");
  if (!ready) {
    h_reply_header(rq, "Retry-After", "5");
  }
  h_reply_json(rq, ready ? 200 : 503, body);
}

static void pool_gauges(FILE *out, const char *name, const struct h_pool_stats *s) {
  fprintf(out,
          "herald_pool_size{pool=\"%s\"} %d\nherald_pool_in_use{pool=\"%s\"} %d\n"
          "herald_pool_open{pool=\"%s\"} %d\nherald_pool_acquire_timeouts_total{pool=\"%s\"} %llu\n"
          "herald_pool_open_failures_total{pool=\"%s\"} %llu\n",
          name, s->size, name, s->in_use, name, s->open, name, s->timeouts, name, s->failures);
}

/* The offload pool's threads, what runs there and what waits for a thread (none without a
 * pool). */
static void offload_metrics(FILE *out, struct h_offload *o) {
  if (o == NULL) {
    return;
  }
  struct h_offload_stats st;
  h_offload_stats(o, &st);
  fprintf(out,
          "# HELP herald_offload_threads Threads of the pool that runs the handlers that wait on"
          " a provider or a password hash.\n"
          "# TYPE herald_offload_threads gauge\nherald_offload_threads %d\n"
          "# HELP herald_offload_busy Handlers running on the offload pool now.\n"
          "# TYPE herald_offload_busy gauge\nherald_offload_busy %d\n"
          "# HELP herald_offload_queued Requests waiting for an offload thread.\n"
          "# TYPE herald_offload_queued gauge\nherald_offload_queued %d\n"
          "# TYPE herald_offload_requests_total counter\nherald_offload_requests_total %lu\n",
          st.threads, st.busy, st.queued, st.ran);
}

/* The batches of POST /api/v1/notifications (none when it is off). */
static void group_commit_metrics(FILE *out, struct h_gc *gc) {
  if (gc == NULL) {
    return;
  }
  long batches = 0, items = 0, retried = 0;
  h_gc_stats(gc, &batches, &items, &retried);
  fprintf(out,
          "# HELP herald_group_commit_batches_total Group-commit transactions (batches).\n"
          "# TYPE herald_group_commit_batches_total counter\n"
          "herald_group_commit_batches_total %ld\n"
          "# TYPE herald_group_commit_items_total counter\n"
          "herald_group_commit_items_total %ld\n"
          "# HELP herald_group_commit_retried_total Batches that failed and were retried one"
          " item per transaction.\n"
          "# TYPE herald_group_commit_retried_total counter\n"
          "herald_group_commit_retried_total %ld\n"
          "# TYPE herald_group_commit_queued gauge\nherald_group_commit_queued %d\n",
          batches, items, retried, h_gc_queued(gc));
  long counts[H_GC_WRITE_BUCKETS + 1];
  double sum = 0;
  h_gc_write_times(gc, counts, &sum);
  fputs("# HELP herald_group_commit_write_seconds Time of each batch's write: its statement and"
        " COMMIT, the WAL flush included.\n"
        "# TYPE herald_group_commit_write_seconds histogram\n",
        out);
  long cumulative = 0;
  for (int b = 0; b < H_GC_WRITE_BUCKETS; b++) {
    cumulative += counts[b];
    fprintf(out, "herald_group_commit_write_seconds_bucket{le=\"%g\"} %ld\n", h_gc_write_bounds[b],
            cumulative);
  }
  cumulative += counts[H_GC_WRITE_BUCKETS];
  fprintf(out,
          "herald_group_commit_write_seconds_bucket{le=\"+Inf\"} %ld\n"
          "herald_group_commit_write_seconds_sum %.6f\n"
          "herald_group_commit_write_seconds_count %ld\n",
          cumulative, sum, cumulative);
}

/* The notification streams (inbox/stream_hub.h). */
static void stream_metrics(FILE *out, struct h_stream_hub *hub) {
  long overflowed = 0, expired = 0;
  h_stream_hub_ends(hub, &overflowed, &expired);
  fprintf(out,
          "# HELP herald_streams_open Open notification streams.\n"
          "# TYPE herald_streams_open gauge\nherald_streams_open %d\n"
          "# HELP herald_streams_ended_total Streams the server ended, by reason.\n"
          "# TYPE herald_streams_ended_total counter\n"
          "herald_streams_ended_total{reason=\"overflow\"} %ld\n"
          "herald_streams_ended_total{reason=\"session_expired\"} %ld\n",
          h_stream_hub_count(hub), overflowed, expired);
}

/* True when ip is a loopback address (IPv4 127/8, ::1 or IPv4-mapped 127/8). Pure. */
static bool loopback(const char *ip) {
  return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
         strncmp(ip, "::ffff:127.", 11) == 0;
}

/* Whether the caller may read /metrics; replies 401/403 and returns false otherwise. On
 * the probe listener always; on the main port with HERALD_METRICS_TOKEN as bearer token
 * when one is set, else only for a local scrape (loopback peer, not through a proxy). */
static bool metrics_allowed(struct h_req *rq) {
  const char *token = rq->app->cfg->metrics_token;
  if (rq->probe) {
    return true;
  }
  if (token[0] != '\0') {
    const char *auth = h_req_header(rq, "Authorization");
    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0 &&
        h_consttime_eq(auth + 7, strlen(auth + 7), token, strlen(token))) {
      return true;
    }
    h_reply_header(rq, "WWW-Authenticate", "Bearer realm=\"herald-metrics\"");
    h_reply_error(rq, H_ERR_UNAUTHORIZED, "metrics_token_required",
                  "Send \"Authorization: Bearer <HERALD_METRICS_TOKEN>\".", NULL);
    return false;
  }
  if (loopback(rq->ip) && h_req_header(rq, "X-Forwarded-For") == NULL &&
      h_req_header(rq, "Forwarded") == NULL) {
    return true;
  }
  h_reply_error(rq, H_ERR_FORBIDDEN, "metrics_not_public",
                "Metrics are served to local scrapes, on HERALD_PROBE_PORT, or with"
                " HERALD_METRICS_TOKEN.", NULL);
  return false;
}

/* The series <name>_online, <name>_lookups_total{result} and <name>_drops_total of the copy
 * table c (nothing when c is NULL: the copies are off). */
static void copy_cache_metrics(FILE *out, struct h_copy_cache *c, const char *name,
                               const char *kept, const char *lookups) {
  if (c == NULL) {
    return;
  }
  struct h_copy_cache_stats st;
  h_copy_cache_stats(c, &st);
  fprintf(out,
          "# HELP %s_online %s\n# TYPE %s_online gauge\n%s_online %d\n"
          "# HELP %s_lookups_total %s\n# TYPE %s_lookups_total counter\n"
          "%s_lookups_total{result=\"hit\"} %lu\n%s_lookups_total{result=\"miss\"} %lu\n"
          "# HELP %s_drops_total Copies dropped by notices and writers.\n"
          "# TYPE %s_drops_total counter\n%s_drops_total %lu\n",
          name, kept, name, name, st.online ? 1 : 0, name, lookups, name, name, st.hits, name,
          st.misses, name, name, name, st.drops);
}

void h_metrics_get(struct h_req *rq) {
  if (!metrics_allowed(rq)) {
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (out == NULL) {
    h_reply_error(rq, H_ERR_INTERNAL, NULL, "Cannot render metrics.", NULL);
    return;
  }
  h_metrics_render(rq->app->metrics, out);
  struct h_pool_stats db, redis;
  h_db_stats(rq->app->db, &db);
  h_redis_pool_stats(rq->app->redis, &redis);
  fprintf(out, "# HELP herald_pool_size Connection pools.\n# TYPE herald_pool_size gauge\n");
  pool_gauges(out, "postgres", &db);
  pool_gauges(out, "redis", &redis);
  fprintf(out, "# TYPE herald_http_in_flight gauge\nherald_http_in_flight %d\n",
          atomic_load(&rq->app->in_flight));
  group_commit_metrics(out, rq->app->notify_gc);
  offload_metrics(out, rq->app->offload);
  stream_metrics(out, rq->app->streams);
  copy_cache_metrics(out, rq->app->profiles, "herald_user_cache",
                     "Copies of users' profiles kept (1: the LISTEN on herald_users is in force).",
                     "GET /users/me answered from a copy or not.");
  copy_cache_metrics(out, rq->app->feeds, "herald_feed_cache",
                     "Copies of users' first feed pages kept (1: every stream shard's"
                     " subscription is confirmed).",
                     "First feed pages answered from a copy or not.");
  h_payment_summary_metrics(rq->app, out);
  fclose(out);
  ulfius_set_binary_body_response(rq->response, 200, text, len);
  free(text);
  h_reply_header(rq, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  rq->done = true;
}

void h_openapi_get(struct h_req *rq) {
  ulfius_set_binary_body_response(rq->response, 200, herald_openapi[0].data,
                                  herald_openapi[0].len);
  h_reply_header(rq, "Content-Type", "application/json");
  h_reply_header(rq, "Cache-Control", "public, max-age=300");
  rq->done = true;
}

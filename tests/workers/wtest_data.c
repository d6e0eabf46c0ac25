/* wtest_data.c - HTTP to the fakes, seeding jobs, Redis and PostgreSQL polling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "queue/queue.h"
#include "wtest.h"

struct buf {
  char *data;
  size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct buf *b = userdata;
  size_t n = size * nmemb;
  b->data = h_realloc(b->data, b->len + n + 1);
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

long wt_http(const char *method, const char *url, const char *body, json_t **json) {
  CURL *c = curl_easy_init();
  struct buf b = {0};
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  }
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  }
  if (json != NULL) {
    *json = b.data != NULL ? json_loads(b.data, 0, NULL) : NULL;
  }
  free(b.data);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

long wt_http_text(const char *url, char **body) {
  CURL *c = curl_easy_init();
  struct buf b = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(c);
  *body = b.data != NULL ? b.data : h_strdup("");
  return status;
}

static void control(int port, const char *method, const char *path, const char *body) {
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  long status = wt_http(method, url, body, NULL);
  if (status != 200) {
    fail_msg("%s %s on the fake answered %ld", method, path, status);
  }
}

void wt_fake_rule(int port, const char *rule_json) { control(port, "POST", "/_fake/fail", rule_json); }

void wt_fake_reset(int port) {
  control(port, "DELETE", "/_fake/messages", NULL);
  control(port, "DELETE", "/_fake/fail", NULL);
}

json_t *wt_fake_messages(int port) {
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/messages", port);
  json_t *doc = NULL;
  if (wt_http("GET", url, NULL, &doc) != 200 || doc == NULL) {
    fail_msg("GET /_fake/messages failed");
  }
  json_t *messages = json_incref(json_object_get(doc, "messages"));
  json_decref(doc);
  return messages;
}

json_t *wt_fake_counts(int port) {
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/messages?ids=1", port);
  json_t *doc = NULL;
  if (wt_http("GET", url, NULL, &doc) != 200 || doc == NULL) {
    fail_msg("GET /_fake/messages?ids=1 failed");
  }
  json_t *counts = json_object();
  size_t i;
  json_t *id;
  json_array_foreach(json_object_get(doc, "messages"), i, id) {
    const char *s = json_string_value(id);
    if (s != NULL) {
      json_object_set_new(counts, s, json_integer(json_integer_value(json_object_get(counts, s)) + 1));
    }
  }
  json_decref(doc);
  return counts;
}

/* ---- Redis ---- */

static long long redis_int(const char *cmd, const char *key) {
  const char *argv[] = {cmd, key};
  redisReply *reply = NULL;
  long long v = -1;
  if (h_redis_argv(wt_redis(), &reply, 2, argv) == H_OK && reply->type == REDIS_REPLY_INTEGER) {
    v = reply->integer;
  }
  freeReplyObject(reply);
  return v;
}

long long wt_llen(const char *key) { return redis_int("LLEN", key); }
long long wt_zcard(const char *key) { return redis_int("ZCARD", key); }

/* Calls fn on every key matching pattern (SCAN). */
static void each_key(const char *pattern, void (*fn)(const char *key, void *arg), void *arg) {
  char cursor[32] = "0";
  do {
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    redisReply *reply = NULL;
    assert_int_equal(h_redis_argv(wt_redis(), &reply, 6, argv), H_OK);
    snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
    for (size_t i = 0; i < reply->element[1]->elements; i++) {
      fn(reply->element[1]->element[i]->str, arg);
    }
    freeReplyObject(reply);
  } while (strcmp(cursor, "0") != 0);
}

static void add_llen(const char *key, void *arg) { *(long long *)arg += wt_llen(key); }

long long wt_processing(const char *queue) {
  char pattern[96];
  snprintf(pattern, sizeof(pattern), "herald:q:{%s}:proc:*", queue);
  long long n = 0;
  each_key(pattern, add_llen, &n);
  return n;
}

static void count_key(const char *key, void *arg) {
  (void)key;
  (*(long long *)arg)++;
}

long long wt_count_keys(const char *pattern) {
  long long n = 0;
  each_key(pattern, count_key, &n);
  return n;
}

static void del_key(const char *key, void *arg) {
  (void)arg;
  const char *argv[] = {"DEL", key};
  assert_int_equal(h_redis_argv(wt_redis(), NULL, 2, argv), H_OK);
}

void wt_queue_clear(const char *queue) {
  char pattern[96];
  snprintf(pattern, sizeof(pattern), "herald:*{%s}*", queue);
  each_key(pattern, del_key, NULL);
  each_key("herald:lock:sweeper", del_key, NULL);
  PGconn *conn = wt_db();
  const char *params[] = {queue};
  PGresult *res = PQexecParams(conn,
                               "UPDATE deliveries SET status = 'skipped', reason = 'test_reset'"
                               " WHERE channel = $1 AND status IN"
                               " ('queued', 'scheduled', 'processing', 'held', 'dead')",
                               1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(conn);
}

/* ---- PostgreSQL ---- */

char **wt_seed_jobs(PGconn *conn, const struct wt_seed *s) {
  char n[16], devices[16];
  snprintf(n, sizeof(n), "%d", s->n);
  snprintf(devices, sizeof(devices), "%d", s->devices);
  const char *params[] = {n, s->channel, s->category ? s->category : "news",
                          s->title ? s->title : "Hello", s->body ? s->body : "Hello from Herald",
                          s->html, s->phone ? "true" : "false", devices,
                          s->device_prefix ? s->device_prefix : "tok-"};
  PGresult *res = PQexecParams(
      conn,
      "WITH u AS (INSERT INTO users (email, password_hash, name, phone)"
      "   SELECT 'wt-' || gen_random_uuid() || '@example.com', 'x', 'User ' || g,"
      "   CASE WHEN $7::bool THEN '+1' || lpad((floor(random() * 9e9) + 1e9)::bigint::text, 10,"
      "   '0') END FROM generate_series(1, $1::int) g RETURNING id),"
      " d AS (INSERT INTO devices (user_id, token, platform)"
      "   SELECT u.id, $9 || gen_random_uuid(), 'android' FROM u, generate_series(1, $8::int)),"
      " n AS (INSERT INTO notifications (user_id, category, title, body, html)"
      "   SELECT id, $3, $4, $5, $6 FROM u RETURNING id, user_id)"
      " INSERT INTO deliveries (notification_id, user_id, channel, status)"
      " SELECT id, user_id, $2, 'queued' FROM n RETURNING id",
      9, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("seeding jobs: %s", PQerrorMessage(conn));
  }
  int rows = PQntuples(res);
  char **ids = h_calloc((size_t)rows + 1, sizeof(char *));
  for (int i = 0; i < rows; i++) {
    ids[i] = h_strdup(PQgetvalue(res, i, 0));
  }
  PQclear(res);
  return ids;
}

void wt_free_ids(char **ids) {
  for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
    free(ids[i]);
  }
  free(ids);
}

size_t wt_count_ids(char **ids) {
  size_t n = 0;
  while (ids != NULL && ids[n] != NULL) {
    n++;
  }
  return n;
}

void wt_push(const char *queue, char **ids) {
  size_t n = wt_count_ids(ids);
  int q = h_queue_parse(queue);
  for (size_t done = 0; done < n; done += 500) {
    size_t batch = n - done < 500 ? n - done : 500;
    assert_int_equal(h_queue_push(wt_redis(), (enum h_queue)q, (const char *const *)ids + done,
                                  batch),
                     H_OK);
  }
}

char *wt_id_array(char **ids) {
  size_t n = wt_count_ids(ids);
  char *out = h_malloc(n * 37 + 3);
  size_t len = 0;
  out[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    len += (size_t)sprintf(out + len, "%s%s", i > 0 ? "," : "", ids[i]);
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

long long wt_scalar(PGconn *conn, const char *sql, char **ids) {
  char *array = ids != NULL ? wt_id_array(ids) : NULL;
  const char *params[] = {array};
  PGresult *res = PQexecParams(conn, sql, ids != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
  free(array);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
    fail_msg("query failed: %s: %s", sql, PQerrorMessage(conn));
  }
  long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  return v;
}

bool wt_wait_scalar(PGconn *conn, const char *sql, char **ids, long long want, int timeout_s) {
  double deadline = wt_now() + timeout_s;
  long long v;
  while ((v = wt_scalar(conn, sql, ids)) != want && wt_now() < deadline) {
    wt_sleep_ms(100);
  }
  if (v != want) {
    fprintf(stderr, "wt_wait_scalar: %s -> %lld, wanted %lld\n", sql, v, want);
  }
  return v == want;
}

const char *const *wt_fast_env(int smtp_port, const char *const *extra) {
  static char port[64];
  static const char *env[32];
  snprintf(port, sizeof(port), "HERALD_SMTP_PORT=%d", smtp_port);
  const char *base[] = {"HERALD_EMAIL_PROVIDER=smtp", "HERALD_SMTP_HOST=127.0.0.1", port,
                        "HERALD_LOG_LEVEL=info", "HERALD_WORKER_HEARTBEAT_TTL_MS=1000",
                        "HERALD_WORKER_REAP_INTERVAL_MS=250", "HERALD_WORKER_BLOCK_MS=200",
                        "HERALD_WORKER_PROMOTE_INTERVAL_MS=50", "HERALD_PROVIDER_TIMEOUT_MS=3000",
                        "HERALD_DB_CONNECT_TIMEOUT_S=1", "HERALD_REDIS_TIMEOUT_MS=500",
                        "HERALD_RETRY_BASE_MS=200", "HERALD_RETRY_MAX_MS=1000", NULL};
  int n = 0;
  for (; base[n] != NULL; n++) {
    env[n] = base[n];
  }
  for (int i = 0; extra != NULL && extra[i] != NULL && n < 31; i++) {
    env[n++] = extra[i];
  }
  env[n] = NULL;
  return env;
}

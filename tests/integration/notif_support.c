/* notif_support.c - helpers of the notification integration tests. */
#include "notif_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/redis.h"

void ns_call(const struct th_server *s, const char *token, const char *method, const char *path,
             const char *body, const char *extra, struct th_response *r) {
  char auth[4200];
  const char *h[3] = {NULL, NULL, NULL};
  int n = 0;
  if (token != NULL) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    h[n++] = auth;
  }
  if (extra != NULL) {
    h[n++] = extra;
  }
  th_request(s, method, path, h, body, r);
}

char *ns_user(const struct th_server *s, const char *prefix, const char *phone, char id[37]) {
  char *email = th_unique_email(prefix);
  char *token = th_register(s, email, id, NULL);
  free(email);
  if (phone != NULL) {
    char body[64];
    snprintf(body, sizeof(body), "{\"phone\":\"%s\"}", phone);
    struct th_response r;
    ns_call(s, token, "PATCH", "/api/v1/users/me", body, NULL, &r);
    assert_int_equal(r.status, 200);
    th_response_free(&r);
  }
  return token;
}

void ns_device(const struct th_server *s, const char *token, const char *device_token) {
  char body[512];
  snprintf(body, sizeof(body), "{\"token\":\"%s\",\"platform\":\"android\"}", device_token);
  struct th_response r;
  ns_call(s, token, "POST", "/api/v1/devices", body, NULL, &r);
  if (r.status != 201 && r.status != 200) {
    fail_msg("device: %ld %s", r.status, r.body);
  }
  th_response_free(&r);
}

json_t *ns_send(const struct th_server *s, const char *admin_token, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char body[8192];
  vsnprintf(body, sizeof(body), fmt, ap);
  va_end(ap);
  struct th_response r;
  ns_call(s, admin_token, "POST", "/api/v1/notifications", body, NULL, &r);
  if (r.status != 202) {
    fail_msg("send %s: %ld %s", body, r.status, r.body);
  }
  json_t *out = json_incref(r.json);
  th_response_free(&r);
  return out;
}

const json_t *ns_delivery(const json_t *notification, const char *channel) {
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(notification, "deliveries"), i, d) {
    if (strcmp(th_str(d, "channel"), channel) == 0) {
      return d;
    }
  }
  return NULL;
}

char *ns_sql_text(const char *sql, const char *param) {
  PGconn *c = th_db_connect();
  const char *params[] = {param};
  PGresult *res = PQexecParams(c, sql, param != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  char *out = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? h_strdup(PQgetvalue(res, 0, 0))
                                                             : NULL;
  PQclear(res);
  PQfinish(c);
  return out;
}

long ns_sql_long(const char *sql, const char *param) {
  char *v = ns_sql_text(sql, param);
  long n = v != NULL ? atol(v) : -1;
  free(v);
  return n;
}

/* One command on a fresh connection; the reply is freed by the caller. */
static redisReply *redis_run(int argc, const char **argv) {
  struct h_redis_target t;
  assert_int_equal(h_redis_parse_url(getenv("HERALD_REDIS_URL"), 2000, &t), H_OK);
  struct h_redis r;
  h_redis_init(&r, &t);
  redisReply *reply = NULL;
  h_result res = h_redis_argv(&r, &reply, argc, argv);
  h_redis_close(&r);
  if (res != H_OK) {
    fail_msg("redis %s: %s", argv[0], h_result_name(res));
  }
  return reply;
}

bool ns_list_has(const char *key, const char *id) {
  const char *argv[] = {"LPOS", key, id};
  redisReply *reply = redis_run(3, argv);
  bool found = reply->type == REDIS_REPLY_INTEGER;
  freeReplyObject(reply);
  return found;
}

double ns_zscore(const char *key, const char *id) {
  const char *argv[] = {"ZSCORE", key, id};
  redisReply *reply = redis_run(3, argv);
  double score = reply->type == REDIS_REPLY_STRING ? atof(reply->str) : -1;
  freeReplyObject(reply);
  return score;
}

bool ns_wait_list_has(const char *key, const char *id, int timeout_s) {
  for (int i = 0; i < timeout_s * 10; i++) {
    if (ns_list_has(key, id)) {
      return true;
    }
    usleep(100 * 1000);
  }
  return false;
}

long ns_epoch(const char *ts) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
    fail_msg("not a UTC timestamp: %s", ts != NULL ? ts : "(null)");
  }
  return (long)timegm(&tm);
}

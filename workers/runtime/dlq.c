/* dlq.c - the operator's subcommands: dlq list, dlq replay, dlq purge, stats.
 * PostgreSQL is the truth (rows with status 'dead'); herald:dlq:{q} mirrors it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "queue/queue_stats.h"
#include <jansson.h>

#include "rt.h"

/* KEYS[1] dlq, KEYS[2] ready (or nothing to push to when ARGV[1] is "0"); ARGV[2..] ids. */
static const char requeue_lua[] =
    "for i = 2, #ARGV do\n"
    "  redis.call('LREM', KEYS[1], 0, ARGV[i])\n"
    "  if ARGV[1] == '1' then redis.call('LPUSH', KEYS[2], ARGV[i]) end\n"
    "end\n"
    "return #ARGV - 1\n";

/* "herald-email dlq replay on <host>" for the audit trail. */
static void actor_of(const struct h_rt *rt, const char *action, char *out, size_t outlen) {
  char host[64] = "?";
  gethostname(host, sizeof(host) - 1);
  snprintf(out, outlen, "%s dlq %s on %s (uid %d)", rt->def->program, action, host, (int)getuid());
}

/* Removes ids from the dead-letter list and, when push, adds them to the ready list;
 * in batches of 500 ids per script call. */
static h_result move_ids(struct h_rt *rt, char **ids, size_t n, bool push) {
  for (size_t done = 0; done < n;) {
    size_t batch = n - done < 500 ? n - done : 500;
    const char **argv = h_malloc((batch + 6) * sizeof(char *));
    size_t argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = requeue_lua;
    argv[argc++] = "2";
    argv[argc++] = rt->dlq_key;
    argv[argc++] = rt->ready_key;
    argv[argc++] = push ? "1" : "0";
    for (size_t i = 0; i < batch; i++) {
      argv[argc++] = ids[done + i];
    }
    h_result r = h_rt_redis(&rt->maint, NULL, (int)argc, argv, rt->cfg->redis_timeout_ms);
    free(argv);
    if (r != H_OK) {
      return r;
    }
    done += batch;
  }
  return H_OK;
}

static const char *text_or_dash(const PGresult *res, int row, int col) {
  return PQgetisnull(res, row, col) ? "-" : PQgetvalue(res, row, col);
}

static int dlq_list(struct h_rt *rt) {
  PGresult *res = NULL;
  if (h_job_dead_list(rt->maint.pg, rt->channel, rt->opts->limit, &res) != H_OK) {
    fprintf(stderr, "%s dlq list: query failed\n", rt->def->program);
    return 1;
  }
  printf("%-36s  %-20s  %8s  %10s  %-20s  %s\n", "ID", "DIED AT", "ATTEMPTS", "RECOVERIES",
         "REASON", "LAST ERROR");
  for (int i = 0; i < PQntuples(res); i++) {
    printf("%-36s  %-20s  %8s  %10s  %-20s  %s\n", PQgetvalue(res, i, 0),
           PQgetvalue(res, i, 5), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
           text_or_dash(res, i, 3), text_or_dash(res, i, 4));
  }
  long long in_redis = -1;
  const char *argv[] = {"LLEN", rt->dlq_key};
  redisReply *reply = NULL;
  if (h_rt_redis(&rt->maint, &reply, 2, argv, rt->cfg->redis_timeout_ms) == H_OK &&
      reply->type == REDIS_REPLY_INTEGER) {
    in_redis = reply->integer;
  }
  freeReplyObject(reply);
  printf("%d dead %s job(s) shown (limit %d); %lld id(s) in %s\n", PQntuples(res), rt->channel,
         rt->opts->limit, in_redis, rt->dlq_key);
  PQclear(res);
  return 0;
}

static int dlq_change(struct h_rt *rt, bool replay) {
  char actor[160];
  actor_of(rt, replay ? "replay" : "purge", actor, sizeof(actor));
  char **ids = NULL;
  size_t n = 0;
  h_result r = replay ? h_job_replay(rt->maint.pg, rt->channel, rt->opts->replay_id, actor, &ids,
                                     &n)
                      : h_job_purge(rt->maint.pg, rt->channel, rt->opts->older_than_s, actor,
                                    &ids, &n);
  int rc = 0;
  if (r != H_OK && r != H_ERR_NOT_FOUND) {
    fprintf(stderr, "%s dlq: PostgreSQL failed (%s)\n", rt->def->program, h_result_name(r));
    rc = 1;
  } else if (n == 0 && rt->opts->replay_id != NULL) {
    fprintf(stderr, "%s dlq replay: %s is not a dead %s job\n", rt->def->program,
            rt->opts->replay_id, rt->channel);
    rc = 1;
  } else if (move_ids(rt, ids, n, replay) != H_OK) {
    printf("%zu job(s) %s in PostgreSQL; Redis is unavailable: the sweeper pushes them later\n",
           n, replay ? "requeued" : "purged");
  } else {
    for (size_t i = 0; i < n && n <= 20; i++) {
      printf("%s\n", ids[i]);
    }
    printf("%zu dead %s job(s) %s\n", n, rt->channel,
           replay ? "replayed (back in the ready list)" : "purged (now failed)");
    h_log(H_LOG_INFO, "event", NULL, "%s: %zu job(s)", actor, n);
  }
  h_job_free_ids(ids);
  return rc;
}

int h_rt_dlq(struct h_rt *rt) {
  if (h_rt_pg(&rt->maint) != H_OK) {
    fprintf(stderr, "%s dlq: PostgreSQL is unavailable (HERALD_DATABASE_URL)\n",
            rt->def->program);
    return 1;
  }
  switch (rt->opts->cmd) {
  case H_CMD_DLQ_LIST:
    return dlq_list(rt);
  case H_CMD_DLQ_REPLAY:
    return dlq_change(rt, true);
  default:
    return dlq_change(rt, false);
  }
}

/* Counts live heartbeat keys of the queue (SCAN). */
static long long live_workers(struct h_rt *rt) {
  char pattern[H_KEY_LEN], cursor[32] = "0";
  h_queue_heartbeat_key(rt->def->queue, "*", pattern, sizeof(pattern));
  long long n = 0;
  do {
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500"};
    redisReply *reply = NULL;
    if (h_rt_redis(&rt->maint, &reply, 6, argv, rt->cfg->redis_timeout_ms) != H_OK ||
        reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      freeReplyObject(reply);
      return -1;
    }
    snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
    n += (long long)reply->element[1]->elements;
    freeReplyObject(reply);
  } while (strcmp(cursor, "0") != 0);
  return n;
}

/* Deliveries of the channel by status, and the age in seconds of the oldest queued one
 * (-1: none) into *by_status (new object, caller frees) and *oldest_s; false when
 * PostgreSQL cannot answer. */
static bool stats_postgres(struct h_rt *rt, json_t **by_status, long long *oldest_s) {
  const char *params[] = {rt->channel};
  PGresult *res = NULL;
  *by_status = NULL;
  *oldest_s = -1;
  if (h_rt_pg(&rt->maint) != H_OK ||
      h_db_exec(rt->maint.pg,
                "SELECT status, count(*), extract(epoch FROM now() - min(created_at))::bigint"
                " FROM deliveries WHERE channel = $1 GROUP BY status ORDER BY status",
                1, params, &res) != H_OK) {
    return false;
  }
  *by_status = json_object();
  for (int i = 0; i < PQntuples(res); i++) {
    json_object_set_new(*by_status, PQgetvalue(res, i, 0),
                        json_integer(strtoll(PQgetvalue(res, i, 1), NULL, 10)));
    if (strcmp(PQgetvalue(res, i, 0), "queued") == 0) {
      *oldest_s = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    }
  }
  PQclear(res);
  return true;
}

/* stats --json: one object on one line. */
static int stats_json(struct h_rt *rt) {
  struct h_queue_counts c;
  json_t *doc = json_pack("{ss}", "queue", rt->channel);
  int rc = 0;
  if (h_queue_counts(&rt->maint.redis, rt->def->queue, &c) == H_OK) {
    json_object_set_new(doc, "redis", json_pack("{sIsIsIsIsI}", "ready", (json_int_t)c.ready,
                                                "processing", (json_int_t)c.processing,
                                                "delayed", (json_int_t)c.delayed, "dead",
                                                (json_int_t)c.dead, "heartbeats",
                                                (json_int_t)live_workers(rt)));
  } else {
    json_object_set_new(doc, "redis", json_null());
    rc = 1;
  }
  json_t *by_status = NULL;
  long long oldest = -1;
  if (stats_postgres(rt, &by_status, &oldest)) {
    json_object_set_new(doc, "postgresql", by_status);
    json_object_set_new(doc, "oldest_queued_seconds", oldest >= 0 ? json_integer(oldest)
                                                                  : json_null());
  } else {
    json_object_set_new(doc, "postgresql", json_null());
    json_object_set_new(doc, "oldest_queued_seconds", json_null());
    rc = 1;
  }
  char *text = json_dumps(doc, JSON_COMPACT);
  printf("%s\n", text);
  free(text);
  json_decref(doc);
  return rc;
}

int h_rt_stats(struct h_rt *rt) {
  if (rt->opts->json) {
    return stats_json(rt);
  }
  struct h_queue_counts c;
  int rc = 0;
  printf("queue       %s\n", rt->channel);
  if (h_queue_counts(&rt->maint.redis, rt->def->queue, &c) == H_OK) {
    printf("ready       %lld\n", c.ready);
    printf("processing  %lld\n", c.processing);
    printf("delayed     %lld\n", c.delayed);
    printf("dead        %lld\n", c.dead);
    printf("heartbeats  %lld\n", live_workers(rt)); /* live threads of all workers */
  } else {
    printf("redis       unavailable\n");
    rc = 1;
  }
  json_t *by_status = NULL;
  long long oldest = -1;
  if (!stats_postgres(rt, &by_status, &oldest)) {
    printf("postgresql  unavailable\n");
    return rc;
  }
  printf("postgresql ");
  const char *status;
  json_t *n;
  json_object_foreach(by_status, status, n) {
    printf(" %s=%lld", status, (long long)json_integer_value(n));
  }
  printf("\n");
  if (oldest >= 0) {
    printf("oldest      queued %llds ago\n", oldest);
  } else {
    printf("oldest      nothing queued\n");
  }
  json_decref(by_status);
  return rc;
}

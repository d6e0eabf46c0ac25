/* sweeper.c - delayed-set promotion and re-pushing of rows Redis lost. */
#include "queue/sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "store/db.h"
#include "core/log.h"

/* The delivery queues the sweeper owns (reconcile carries jobs, not deliveries). */
static const enum h_queue delivery_queues[] = {H_QUEUE_EMAIL, H_QUEUE_SMS, H_QUEUE_PUSH,
                                              H_QUEUE_WEBHOOK};
#define N_DELIVERY_QUEUES (sizeof(delivery_queues) / sizeof(delivery_queues[0]))

/* KEYS[1] delayed set, KEYS[2] ready list (same hash tag); ARGV[1] now, ARGV[2] limit. */
static const char promote_lua[] =
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "if #ids > 0 then\n"
    "  redis.call('ZREM', KEYS[1], unpack(ids))\n"
    "  redis.call('LPUSH', KEYS[2], unpack(ids))\n"
    "end\n"
    "return ids\n";

void h_sweeper_free_ids(char **ids) {
  for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
    free(ids[i]);
  }
  free(ids);
}

h_result h_sweeper_promote_due(struct h_redis *r, enum h_queue q, double now, int limit,
                               char ***ids, size_t *n) {
  char delayed[64], ready[64], score[32], lim[16];
  h_queue_delayed_key(q, delayed, sizeof(delayed));
  h_queue_ready_key(q, ready, sizeof(ready));
  snprintf(score, sizeof(score), "%.3f", now);
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *argv[] = {"EVAL", promote_lua, "2", delayed, ready, score, lim};
  redisReply *reply = NULL;
  *n = 0;
  if (ids != NULL) {
    *ids = NULL;
  }
  h_result res = h_redis_argv(r, &reply, 7, argv);
  if (res != H_OK || reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    freeReplyObject(reply);
    return res != H_OK ? res : H_ERR_INTERNAL;
  }
  *n = reply->elements;
  if (ids != NULL) {
    *ids = h_calloc(reply->elements + 1, sizeof(char *));
    for (size_t i = 0; i < reply->elements; i++) {
      (*ids)[i] = h_strndup(reply->element[i]->str, reply->element[i]->len);
    }
  }
  freeReplyObject(reply);
  return H_OK;
}

/* '{id,id,...}' for a uuid[] parameter (ids are UUIDs: no quoting needed). Caller frees. */
static char *uuid_array(const char *const *ids, size_t n) {
  char *out = h_malloc(n * 37 + 3);
  size_t len = 0;
  out[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    len += (size_t)sprintf(out + len, "%s%.36s", i > 0 ? "," : "", ids[i]);
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

/* Step 1 for one queue: promote due ids, then mark their scheduled rows queued. */
static h_result promote_queue(PGconn *conn, struct h_redis *r, enum h_queue q,
                              const struct h_sweeper_options *opt, long *count) {
  char **ids = NULL;
  size_t n = 0;
  h_result res = h_sweeper_promote_due(r, q, (double)time(NULL), opt->batch, &ids, &n);
  if (res != H_OK || n == 0) {
    if (res != H_OK && res != H_ERR_UNAVAILABLE) {
      h_log_warning("h_sweeper: promoting %s failed (%s)", h_queue_name(q), h_result_name(res));
    }
    h_sweeper_free_ids(ids);
    return H_OK; /* Redis trouble: the rows stay in PostgreSQL, step 3 covers them */
  }
  *count += (long)n;
  char *array = uuid_array((const char *const *)ids, n);
  const char *params[] = {array};
  res = h_db_exec(conn,
                  "UPDATE deliveries SET status = 'queued', updated_at = now(), repushes = 0"
                  " WHERE id = ANY($1::uuid[]) AND status = 'scheduled'",
                  1, params, NULL);
  free(array);
  h_sweeper_free_ids(ids);
  return res;
}

/* The rows of ids were not pushed after all (Redis down): their next attempt comes one stale
 * age later, not after a back-off earned by pushes that never reached Redis. An error leaves
 * the back-off in place (the rows are still pushed again, later). */
static void forget_pushes(PGconn *conn, const char *const *ids, size_t n) {
  char *array = uuid_array(ids, n);
  const char *params[] = {array};
  if (h_db_exec(conn, "UPDATE deliveries SET repushes = 0 WHERE id = ANY($1::uuid[])", 1,
                params, NULL) != H_OK) {
    h_log_warning("h_sweeper: %zu id(s) keep their re-push back-off", n);
  }
  free(array);
}

/* Runs a statement returning (id, channel) rows that must be pushed; pushes them. */
static h_result push_rows(PGconn *conn, struct h_redis *r, const char *sql,
                          const struct h_sweeper_options *opt, long *count, bool *more) {
  char stale[16], batch[16];
  snprintf(stale, sizeof(stale), "%d", opt->stale_s);
  snprintf(batch, sizeof(batch), "%d", opt->batch);
  const char *params[] = {stale, batch};
  PGresult *res = NULL;
  h_result rc = h_db_exec(conn, sql, 2, params, &res);
  if (rc != H_OK) {
    return rc;
  }
  int rows = PQntuples(res);
  *more = rows >= opt->batch;
  *count += rows;
  const char **ids = h_malloc(((size_t)rows + 1) * sizeof(char *));
  for (size_t qi = 0; qi < N_DELIVERY_QUEUES; qi++) {
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
      if (h_queue_parse(PQgetvalue(res, i, 1)) == (int)delivery_queues[qi]) {
        ids[n++] = PQgetvalue(res, i, 0);
      }
    }
    if (n > 0 && h_queue_push(r, delivery_queues[qi], ids, n) != H_OK) {
      h_log_warning("h_sweeper: %zu %s id(s) not pushed: Redis unavailable; retried in %d s", n,
                    h_queue_name(delivery_queues[qi]), opt->stale_s);
      forget_pushes(conn, ids, n);
    }
  }
  free(ids);
  PQclear(res);
  return H_OK;
}

/* A row the sweepers pushed again and that is still queued was most likely waiting behind a
 * backlog, not lost: each push doubles the wait before the next (repushes, migration 0105:
 * stale_s, then 2, 4, 8 and at most 16 times stale_s after the last push: the shift below),
 * so that a channel whose workers are stopped does not gain a copy of every waiting id at
 * every stale_s. Whatever queues a row again (promotion, replay, requeue, a worker giving a
 * job back, a recovery) sets repushes to 0, and so does a push that failed (forget_pushes).
 *
 * The scan reads only the rows due again: deliveries_stale_idx (migration 0106) keys the
 * queued rows by (repushes, updated_at), so each level of the back-off is one range of it,
 * older than that level's wait, read in the order the rows were queued or last pushed and
 * left at the batch. A backlog that waits out its back-off, or that was queued less than
 * stale_s ago, is not read at all (before 0106 the scan read every queued row due before the
 * cutoff at every pass, to keep the few whose wait had run out). A queued row's due_at is at
 * most its updated_at (both written when it was queued, or it was due when promoted), so the
 * test on due_at only keeps a row written otherwise by hand from going out early. */
#define H_SWEEP_BACKOFF_SHIFT "4" /* the longest wait: (1 << 4) x stale_s */
static const char stale_queued_sql[] =
    "WITH s AS (SELECT q.id FROM generate_series(0, " H_SWEEP_BACKOFF_SHIFT ") AS l(level),"
    " LATERAL (SELECT id FROM deliveries WHERE status = 'queued' AND repushes = l.level"
    "   AND updated_at < now() - make_interval(secs => $1::int * (1 << l.level))"
    "   AND channel <> 'in_app' AND due_at < now() - make_interval(secs => $1::int)"
    "   ORDER BY updated_at LIMIT $2::int FOR UPDATE SKIP LOCKED) q LIMIT $2::int)"
    " UPDATE deliveries d SET updated_at = now(),"
    "   repushes = least(d.repushes + 1, " H_SWEEP_BACKOFF_SHIFT ")"
    " FROM s WHERE d.id = s.id"
    " RETURNING d.id, d.channel";

static const char overdue_scheduled_sql[] =
    "WITH s AS (SELECT id FROM deliveries WHERE status = 'scheduled' AND channel <> 'in_app'"
    "   AND due_at < now() - make_interval(secs => $1::int)"
    "   ORDER BY due_at LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " UPDATE deliveries d SET status = 'queued', updated_at = now(), repushes = 0"
    " FROM s WHERE d.id = s.id"
    " RETURNING d.id, d.channel";

/* Repeats push_rows while full batches come back (bounded, so a pass always ends). */
static h_result drain(PGconn *conn, struct h_redis *r, const char *sql,
                      const struct h_sweeper_options *opt, long *count) {
  bool more = true;
  h_result rc = H_OK;
  for (int round = 0; rc == H_OK && more && round < 50; round++) {
    rc = push_rows(conn, r, sql, opt, count, &more);
  }
  return rc;
}

static h_result complete_in_app(PGconn *conn, long *count) {
  PGresult *res = NULL;
  h_result rc = h_db_exec(conn,
                          "UPDATE deliveries SET status = 'sent', sent_at = due_at,"
                          " updated_at = now() WHERE channel = 'in_app'"
                          " AND status = 'scheduled' AND due_at <= now()",
                          0, NULL, &res);
  if (rc == H_OK) {
    *count += atol(PQcmdTuples(res));
    PQclear(res);
  }
  return rc;
}

h_result h_sweeper_run_once(PGconn *conn, struct h_redis *r, const struct h_sweeper_options *opt,
                            struct h_sweep_stats *stats) {
  struct h_sweep_stats local = {0};
  h_result rc = H_OK;
  for (size_t i = 0; rc == H_OK && i < N_DELIVERY_QUEUES; i++) {
    rc = promote_queue(conn, r, delivery_queues[i], opt, &local.promoted);
  }
  if (rc == H_OK) {
    rc = drain(conn, r, stale_queued_sql, opt, &local.repushed);
  }
  if (rc == H_OK) {
    rc = drain(conn, r, overdue_scheduled_sql, opt, &local.rescheduled);
  }
  if (rc == H_OK) {
    rc = complete_in_app(conn, &local.in_app_sent);
  }
  if (stats != NULL) {
    stats->promoted += local.promoted;
    stats->repushed += local.repushed;
    stats->rescheduled += local.rescheduled;
    stats->in_app_sent += local.in_app_sent;
  }
  return rc;
}

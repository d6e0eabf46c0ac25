/* reaper.c - jobs of dead workers back to the queue.
 *
 * The reaper (one at a time per queue, by a lock key with a TTL) scans the
 * processing lists of the queue; a script moves, atomically, every id of each
 * list whose heartbeat key has expired into the reaper's own processing list
 * (protected by its own heartbeat, so a reaper dying half-way loses nothing).
 * Each id is then settled against PostgreSQL (h_job_recover: a recovery is
 * counted and the fencing token bumped) and moved to the ready list, the delayed
 * set or the dead-letter list, or dropped when its row is already done.
 *
 * The stale sweep covers the case Redis cannot see: a row left 'processing' whose
 * id Redis lost (a Redis restart without persistence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "rt.h"

/* KEYS[1] the reaper's processing list, then (processing list, heartbeat) pairs;
 * ARGV[k] the worker id of pair k. Returns id, worker, id, worker... */
static const char reap_lua[] =
    "local moved = {}\n"
    "for i = 2, #KEYS, 2 do\n"
    "  if redis.call('EXISTS', KEYS[i + 1]) == 0 then\n"
    "    while true do\n"
    "      local id = redis.call('LMOVE', KEYS[i], KEYS[1], 'RIGHT', 'LEFT')\n"
    "      if not id then break end\n"
    "      moved[#moved + 1] = id\n"
    "      moved[#moved + 1] = ARGV[i / 2]\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return moved\n";

h_result h_rt_route_recovered(struct h_wthread *t, const char *from_key, const char *id,
                              const char *status, double due) {
  struct h_rt *rt = t->rt;
  const char *from = from_key != NULL ? from_key : t->proc_key;
  if (strcmp(status, "queued") == 0) {
    return h_rt_move_to_list(t, from, id, rt->ready_key, true);
  }
  if (strcmp(status, "scheduled") == 0) {
    return h_rt_move_to_delayed(t, from, id, due);
  }
  if (strcmp(status, "dead") == 0) {
    return h_rt_move_to_list(t, from, id, rt->dlq_key, false);
  }
  const char *argv[] = {"LREM", from, "1", id};
  return h_rt_redis(t, NULL, 4, argv, rt->cfg->redis_timeout_ms);
}

/* Settles one id; false when PostgreSQL or Redis failed (the id stays where it is). */
static bool recover_one(struct h_rt *rt, struct h_wthread *m, const char *from_key,
                        const char *id, const char *owner, const char *why) {
  char status[16];
  double due = 0;
  bool hold = rt->hold_on_recovery;
  if (h_rt_pg(m) != H_OK) {
    return false;
  }
  h_rt_watch_begin(m, "recover", PQsocket(m->pg), rt->db_opts.statement_timeout_ms);
  h_result r = h_job_recover(m->pg, id, owner, rt->cfg->worker_max_recoveries, hold, why, status,
                             &due);
  h_rt_watch_end(m);
  if (r != H_OK) {
    h_rt_pg_check(m);
    h_log_warning("%s: recovering %s failed (%s); retried next pass", m->worker_id, id,
                  h_result_name(r));
    return false;
  }
  if (h_rt_route_recovered(m, from_key, id, status, due) != H_OK) {
    return false;
  }
  if (strcmp(status, "queued") == 0 || strcmp(status, "held") == 0 ||
      strcmp(status, "dead") == 0) {
    h_wmetrics_outcome(rt->metrics, strcmp(status, "queued") == 0 ? H_OUT_RECOVERED
                                    : strcmp(status, "held") == 0 ? H_OUT_HELD
                                                                  : H_OUT_DEAD);
    h_log(H_LOG_WARNING, "event", NULL, "delivery %s recovered (%s): now %s", id, why, status);
  }
  return true;
}

/* Settles every id of the reaper's own list (this pass's and any a previous pass
 * left); false when a backend failed. */
static bool settle_own(struct h_rt *rt, struct h_wthread *m) {
  const char *argv[] = {"LRANGE", m->proc_key, "0", "-1"};
  redisReply *reply = NULL;
  if (h_rt_redis(m, &reply, 4, argv, rt->cfg->redis_timeout_ms) != H_OK || reply == NULL) {
    freeReplyObject(reply);
    return false;
  }
  bool ok = true;
  for (size_t i = 0; ok && i < reply->elements; i++) {
    ok = recover_one(rt, m, m->proc_key, reply->element[i]->str, NULL,
                     "worker lost: heartbeat expired");
  }
  freeReplyObject(reply);
  return ok;
}

/* Settles the (id, worker) pairs a reap script returned, each against the worker
 * that lost it; stops at the first failure (the rest wait in our list). */
static void settle_moved(struct h_rt *rt, struct h_wthread *m, const redisReply *pairs) {
  for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
    char why[H_WORKER_ID_LEN + 80];
    snprintf(why, sizeof(why), "worker %s lost: heartbeat expired",
             pairs->element[i + 1]->str[0] != '\0' ? pairs->element[i + 1]->str : "(a reaper)");
    const char *owner = pairs->element[i + 1]->str;
    if (!recover_one(rt, m, m->proc_key, pairs->element[i]->str, owner[0] != '\0' ? owner : NULL,
                     why)) {
      return;
    }
  }
}

/* Runs the reap script on one SCAN page of processing lists; *moved counts ids. */
static h_result reap_page(struct h_rt *rt, struct h_wthread *m, const redisReply *keys,
                          long long *moved) {
  size_t n = keys->elements;
  const char **argv = h_malloc((3 * n + 4) * sizeof(char *));
  char (*hb)[H_KEY_LEN] = h_calloc(n + 1, H_KEY_LEN);
  const char **owners = h_calloc(n + 1, sizeof(char *));
  size_t argc = 4, pairs = 0;
  for (size_t i = 0; i < n; i++) {
    const char *list = keys->element[i]->str;
    const char *worker = strstr(list, ":proc:");
    if (worker == NULL || strcmp(list, m->proc_key) == 0) {
      continue;
    }
    h_queue_heartbeat_key(rt->def->queue, worker + 6, hb[pairs], H_KEY_LEN);
    /* a dead reaper's list ("<id>/m") holds ids of other dead workers: owner unknown */
    size_t wl = strlen(worker + 6);
    owners[pairs] = wl >= 2 && strcmp(worker + 6 + wl - 2, "/m") == 0 ? "" : worker + 6;
    argv[argc++] = list;
    argv[argc++] = hb[pairs++];
  }
  for (size_t i = 0; i < pairs; i++) {
    argv[argc++] = owners[i];
  }
  char nkeys[32];
  snprintf(nkeys, sizeof(nkeys), "%zu", 2 * pairs + 1);
  argv[0] = "EVAL";
  argv[1] = reap_lua;
  argv[2] = nkeys;
  argv[3] = m->proc_key;
  redisReply *reply = NULL;
  h_result r = pairs == 0 ? H_OK
                          : h_rt_redis(m, &reply, (int)argc, argv, rt->cfg->redis_timeout_ms);
  if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
    *moved += (long long)reply->elements / 2;
    settle_moved(rt, m, reply);
  }
  freeReplyObject(reply);
  free(owners);
  free(hb);
  free(argv);
  return r;
}

/* SCANs the queue's processing lists, reaping page by page. */
static h_result reap_lists(struct h_rt *rt, struct h_wthread *m, long long *moved) {
  char pattern[H_KEY_LEN], cursor[32] = "0";
  h_queue_processing_key(rt->def->queue, "*", pattern, sizeof(pattern));
  do {
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500", "TYPE", "list"};
    redisReply *reply = NULL;
    h_result r = h_rt_redis(m, &reply, 8, argv, rt->cfg->redis_timeout_ms);
    if (r != H_OK || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      freeReplyObject(reply);
      return r != H_OK ? r : H_ERR_INTERNAL;
    }
    snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
    r = reap_page(rt, m, reply->element[1], moved);
    freeReplyObject(reply);
    if (r != H_OK) {
      return r;
    }
  } while (strcmp(cursor, "0") != 0);
  return H_OK;
}

void h_rt_reap(struct h_rt *rt, struct h_wthread *m) {
  char lock[H_KEY_LEN];
  snprintf(lock, sizeof(lock), "herald:lock:reaper:{%s}", rt->channel);
  /* Short: two reapers at once are safe (each id moves once, atomically), the lock
   * only saves work; a reaper killed while holding it must not stall the others. */
  int ttl = 2 * rt->cfg->worker_reap_interval_ms > 1000 ? 2 * rt->cfg->worker_reap_interval_ms
                                                        : 1000;
  if (!h_rt_lock(m, lock, m->worker_id, ttl)) {
    return;
  }
  long long moved = 0;
  h_result r = reap_lists(rt, m, &moved);
  if (r != H_OK) {
    h_log_warning("%s: reaper scan failed (%s)", m->worker_id, h_result_name(r));
  }
  if (moved > 0) {
    h_log_warning("%s: reaper took %lld job(s) from dead workers", m->worker_id, moved);
  }
  settle_own(rt, m);
  h_rt_unlock(m, lock, m->worker_id);
}

void h_rt_sweep_stale(struct h_rt *rt, struct h_wthread *m) {
  char lock[H_KEY_LEN];
  snprintf(lock, sizeof(lock), "herald:lock:stale:{%s}", rt->channel);
  if (!h_rt_lock(m, lock, m->worker_id, rt->cfg->worker_sweep_interval_s * 1000) ||
      h_rt_pg(m) != H_OK) {
    return;
  }
  char **ids = NULL;
  size_t n = 0;
  h_rt_watch_begin(m, "stale sweep", PQsocket(m->pg), rt->db_opts.statement_timeout_ms);
  h_result r = h_job_list_stale(m->pg, rt->channel, rt->cfg->worker_stale_after_s, 200, &ids, &n);
  h_rt_watch_end(m);
  if (r != H_OK) {
    h_rt_pg_check(m);
  }
  char why[96];
  snprintf(why, sizeof(why), "no progress for %d s (sweeper)", rt->cfg->worker_stale_after_s);
  for (size_t i = 0; i < n && recover_one(rt, m, NULL, ids[i], NULL, why); i++) {
  }
  h_job_free_ids(ids);
}

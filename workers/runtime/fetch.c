/* fetch.c - a worker thread: fetch an id, claim it, send, record, acknowledge.
 *
 * The order is the protocol of DESIGN.md "Queues": BLMOVE into our processing
 * list; claim in PostgreSQL (fencing token); provider call; outcome and event in
 * one transaction guarded by the token; only then the Redis move (LREM, or to the
 * delayed set, or to the dead-letter list). A crash anywhere leaves the id in our
 * processing list, where the reaper finds it once our heartbeat expires.
 *
 * This is the loop of --batch 1; with a larger batch the thread runs batch.c's
 * loop, which shares the steps of one job exported here (batch.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "backoff.h"
#include "core/log.h"
#include "batch.h"
#include "failover.h"
#include "rt.h"

/* Takes one job from the --max-jobs budget; false when it is spent. */
static bool take_budget(struct h_rt *rt) {
  if (atomic_fetch_sub(&rt->jobs_left, 1) > 0) {
    return true;
  }
  atomic_fetch_add(&rt->jobs_left, 1);
  return false;
}

void h_rt_report(struct h_wthread *t, bool *reported, const char *what, h_result r) {
  if (!*reported) {
    h_log_warning("%s: %s failed (%s); retrying with backoff", t->worker_id, what,
                  h_result_name(r));
    *reported = true;
  }
}

h_result h_rt_pg_retry(struct h_wthread *t, const struct h_rt_pg_step *step) {
  int fails = 0;
  bool reported = false;
  for (;;) {
    h_result r = h_rt_pg(t);
    if (r == H_OK) {
      h_rt_watch_begin(t, step->what, PQsocket(t->pg), t->rt->db_opts.statement_timeout_ms);
      r = step->run(t->pg, step->arg);
      h_rt_watch_end(t);
    }
    if (r == H_OK || r == step->final1 || r == step->final2) {
      return r;
    }
    h_rt_pg_check(t);
    h_rt_report(t, &reported, step->what, r);
    if (step->once || !h_rt_backoff(t, &fails, step->stop)) {
      return r;
    }
  }
}

int h_rt_fetch_one(struct h_wthread *t, char *id, size_t idlen, int *fails) {
  struct h_rt *rt = t->rt;
  if (!atomic_load(&rt->heartbeat_ok)) {
    h_rt_sleep(100, &rt->stop); /* never hold a job without a live heartbeat */
    return -1;
  }
  if (t->list_unknown) {
    char own[1][128];
    if (h_rt_take_own(t, 1, own) > 0 && strlen(own[0]) < idlen) {
      memcpy(id, own[0], strlen(own[0]) + 1);
      return 1;
    }
  }
  char secs[32];
  snprintf(secs, sizeof(secs), "%.3f", rt->cfg->worker_block_ms / 1000.0);
  /* --once never blocks: an empty ready list means the work is done. */
  const char *blmove[] = {"BLMOVE", rt->ready_key, t->proc_key, "RIGHT", "LEFT", secs};
  const char *lmove[] = {"LMOVE", rt->ready_key, t->proc_key, "RIGHT", "LEFT"};
  redisReply *reply = NULL;
  h_result r = rt->opts->once
                   ? h_rt_redis(t, &reply, 5, lmove, rt->cfg->redis_timeout_ms)
                   : h_rt_redis(t, &reply, 6, blmove,
                                rt->cfg->worker_block_ms + rt->cfg->redis_timeout_ms);
  int got = -1;
  if (r == H_OK && reply != NULL && reply->type == REDIS_REPLY_STRING && reply->len < idlen) {
    memcpy(id, reply->str, reply->len);
    id[reply->len] = '\0';
    got = 1;
  } else if (r == H_OK) {
    got = 0;
  }
  freeReplyObject(reply);
  if (r != H_OK) {
    t->list_unknown = true; /* BLMOVE may have moved an id and its reply been lost */
  }
  if (got < 0) {
    bool reported = *fails > 0;
    h_rt_report(t, &reported, "BLMOVE", r);
    h_rt_backoff(t, fails, &rt->stop);
  } else {
    *fails = 0;
  }
  return got;
}

/* The arguments of claim_run, devices_run and record_run. */
struct job_step {
  struct h_wthread *t;
  const char *id;
  struct h_job *job;
  double *due;
  const struct h_job *recorded;
  const struct h_job_outcome *outcome;
};

static h_result claim_run(PGconn *pg, void *arg) {
  struct job_step *a = arg;
  return h_job_claim(pg, a->id, a->t->rt->channel, a->t->worker_id, a->job, a->due);
}

/* Claims id, retrying while PostgreSQL is away. H_ERR_UNAVAILABLE means "stopped
 * before claiming": the id goes back to the ready list. */
static h_result claim(struct h_wthread *t, const char *id, struct h_job *job, double *due) {
  struct job_step a = {.t = t, .id = id, .job = job, .due = due};
  struct h_rt_pg_step step = {"claim", claim_run, &a, H_ERR_NOT_FOUND, H_ERR_CONFLICT,
                              &t->rt->stop, false};
  h_result r = h_rt_pg_retry(t, &step);
  return r == H_OK || r == H_ERR_NOT_FOUND || r == H_ERR_CONFLICT ? r : H_ERR_UNAVAILABLE;
}

/* KEYS[1] a counter, ARGV[1] its lifetime in seconds: the count after this one. */
static const char count_lua[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
    "return n\n";

/* Counts one more under key (living ttl_s); -1 when Redis did not answer. */
static long long count_one(struct h_wthread *t, const char *key, int ttl_s) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *argv[] = {"EVAL", count_lua, "1", key, ttl};
  redisReply *reply = NULL;
  long long n = -1;
  if (h_rt_redis(t, &reply, 5, argv, t->rt->cfg->redis_timeout_ms) == H_OK &&
      reply->type == REDIS_REPLY_INTEGER) {
    n = reply->integer;
  }
  freeReplyObject(reply);
  return n;
}

/* True when job is a digest (its data carries "digest": {...}): never throttled. */
static bool is_digest(const struct h_job *job) {
  return json_is_object(json_object_get(job->data, "digest"));
}

/* The throttle and the daily cap of the channel (core/flood.h), on a job's first attempt:
 * false with res filled when it must not be sent. Redis away: sent (fail open). */
static bool flood_gate(struct h_wthread *t, const struct h_job *job, struct h_send_result *res) {
  const struct h_flood_rules *rules = &t->rt->flood;
  const char *ch = t->rt->channel;
  int limit = h_flood_throttle(rules, ch), cap = h_flood_cap(rules, ch);
  if ((limit == 0 && cap == 0) || job->attempts > 1 ||
      h_flood_exempt(rules, job->category, job->priority)) {
    return true;
  }
  time_t now = time(NULL);
  char key[160];
  if (limit > 0 && !is_digest(job)) {
    snprintf(key, sizeof(key), "herald:throttle:{%s}:%s:%lld", ch, job->user_id,
             (long long)(now / 3600));
    long long n = count_one(t, key, 3700);
    if (n > limit) {
      bool digest = h_flood_digest_window(rules, job->category, job->priority) > 0;
      res->status = digest ? H_SEND_DIGEST : H_SEND_THROTTLED;
      snprintf(res->reason, sizeof(res->reason), "throttled");
      h_send_errorf(res, "more than %d %s deliveries to this user this hour", limit, ch);
      return false;
    }
  }
  if (cap > 0) {
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(key, sizeof(key), "herald:cap:{%s}:%04d%02d%02d", ch, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday);
    if (count_one(t, key, 2 * 86400) > cap) {
      res->status = H_SEND_CAPPED;
      snprintf(res->reason, sizeof(res->reason), "daily_cap");
      h_send_errorf(res, "the daily cap of %d %s deliveries is reached", cap, ch);
      return false;
    }
  }
  return true;
}

bool h_rt_gate(struct h_wthread *t, const struct h_job *job, struct h_send_result *res) {
  struct h_rt *rt = t->rt;
  memset(res, 0, sizeof(*res));
  res->retry_after_s = -1;
  if (job->user_status == NULL || strcmp(job->user_status, "active") != 0) {
    res->status = H_SEND_SKIP;
    snprintf(res->reason, sizeof(res->reason), "user_inactive");
    return false;
  }
  if (job->email_suppressed && rt->def->queue == H_QUEUE_EMAIL) {
    res->status = H_SEND_SKIP; /* a provider reported a bounce or complaint */
    snprintf(res->reason, sizeof(res->reason), "email_undeliverable");
    return false;
  }
  if (!flood_gate(t, job, res)) {
    h_log_debug("%s: delivery %s held back: %s", t->worker_id, job->id, res->error);
    return false;
  }
  return true;
}

void h_rt_attempt(struct h_wthread *t, const struct h_job *job, struct h_send_result *res,
                  int *duration_ms) {
  long long start = h_rt_now_ms();
  if (h_rt_gate(t, job, res)) {
    h_rt_send_chain(t, job, res);
  }
  *duration_ms = (int)(h_rt_now_ms() - start);
}

static h_result targets_run(PGconn *pg, void *arg) {
  struct job_step *a = arg;
  return a->t->rt->def->needs_devices ? h_job_load_devices(pg, a->job)
                                      : h_job_load_endpoint(pg, a->job);
}

/* Loads the user's devices or the delivery's endpoint for providers that need them;
 * false when stopped. */
static bool load_targets(struct h_wthread *t, struct h_job *job) {
  if (!t->rt->def->needs_devices && !t->rt->def->needs_endpoint) {
    return true;
  }
  struct job_step a = {.t = t, .job = job};
  struct h_rt_pg_step step = {"loading the targets", targets_run, &a, H_OK, H_OK,
                              &t->rt->hard_stop, false};
  return h_rt_pg_retry(t, &step) == H_OK;
}

struct endpoint_step {
  const struct h_job *job;
  bool ok;
  int disable_after;
  bool disabled;
};

static h_result endpoint_run(PGconn *pg, void *arg) {
  struct endpoint_step *a = arg;
  return h_job_endpoint_result(pg, a->job, a->ok, a->disable_after, &a->disabled);
}

/* Counts a recorded attempt against the job's endpoint (webhook). */
static void count_endpoint(struct h_wthread *t, const struct h_job *job,
                           const struct h_send_result *res) {
  if (!t->rt->def->needs_endpoint || job->endpoint == NULL || res->status == H_SEND_SKIP) {
    return;
  }
  struct endpoint_step a = {job, res->status == H_SEND_OK, t->rt->cfg->webhook_disable_after,
                            false};
  struct h_rt_pg_step step = {"counting the endpoint's attempt", endpoint_run, &a, H_OK, H_OK,
                              &t->rt->hard_stop, false};
  if (h_rt_pg_retry(t, &step) == H_OK && a.disabled) {
    h_log_warning("%s: webhook endpoint %s disabled after %d consecutive failures",
                  t->worker_id, job->endpoint->id, t->rt->cfg->webhook_disable_after);
  }
}

void h_rt_decide(struct h_wthread *t, const struct h_job *job, const struct h_send_result *res,
                 int duration_ms, struct h_job_outcome *o) {
  struct h_rt *rt = t->rt;
  memset(o, 0, sizeof(*o));
  o->provider = res->provider;
  o->calls = res->calls;
  o->provider_message_id = res->message_id[0] != '\0' ? res->message_id : NULL;
  o->error = res->error[0] != '\0' ? res->error : NULL;
  o->reason = res->reason[0] != '\0' ? res->reason : NULL;
  o->duration_ms = duration_ms;
  o->meta = res->meta;
  o->deactivate_tokens = res->deactivate_tokens;
  switch (res->status) {
  case H_SEND_OK:
    o->status = o->event = "sent";
    break;
  case H_SEND_SKIP:
    o->status = o->event = "skipped";
    break;
  case H_SEND_THROTTLED:
    o->status = o->event = "throttled";
    break;
  case H_SEND_DIGEST:
    o->status = o->event = "digest";
    break;
  case H_SEND_CAPPED:
    o->status = o->event = "capped";
    break;
  case H_SEND_PERMANENT:
    o->status = o->event = "failed";
    o->reason = o->reason != NULL ? o->reason : "provider_rejected";
    break;
  case H_SEND_RETRY:
    if (job->attempts >= rt->max_attempts) {
      o->status = o->event = "dead";
      o->reason = "max_attempts";
    } else {
      o->status = "scheduled";
      o->event = "retry";
      long long ms = h_retry_delay_ms(job->attempts, rt->cfg->retry_base_ms,
                                      rt->cfg->retry_max_ms, res->retry_after_s,
                                      h_rng_unit(&t->rng));
      o->due_at = h_rt_wall() + (double)ms / 1000.0;
    }
    break;
  }
}

static h_result record_run(PGconn *pg, void *arg) {
  struct job_step *a = arg;
  return h_job_record(pg, a->recorded, a->outcome);
}

/* Records o, retrying while PostgreSQL is away (until the drain deadline). */
static h_result record(struct h_wthread *t, const struct h_job *job, const struct h_job_outcome *o) {
  struct job_step a = {.t = t, .recorded = job, .outcome = o};
  struct h_rt_pg_step step = {"recording the outcome", record_run, &a, H_ERR_CONFLICT, H_OK,
                              &t->rt->hard_stop, false};
  h_result r = h_rt_pg_retry(t, &step);
  if (r != H_OK && r != H_ERR_CONFLICT) {
    h_log_error("%s: gave up recording delivery %s (%s); the reaper will recover it",
                t->worker_id, job->id, o->status);
  }
  return r;
}

/* The Redis move after COMMIT, retried while Redis is away (until the drain
 * deadline; an id left behind is harmless: the reaper finds its row done). */
static void settle(struct h_wthread *t, const char *id, const char *status, double due) {
  int fails = 0;
  bool reported = false;
  for (;;) {
    h_result r;
    if (strcmp(status, "scheduled") == 0) {
      r = h_rt_move_to_delayed(t, t->proc_key, id, due);
    } else if (strcmp(status, "dead") == 0) {
      r = h_rt_move_to_list(t, t->proc_key, id, t->rt->dlq_key, false);
    } else if (strcmp(status, "ready") == 0) {
      r = h_rt_move_to_list(t, t->proc_key, id, t->rt->ready_key, true);
    } else {
      r = h_rt_ack(t, id);
    }
    if (r == H_OK) {
      return;
    }
    h_rt_report(t, &reported, "moving the id after commit", r);
    if (!h_rt_backoff(t, &fails, &t->rt->hard_stop)) {
      return;
    }
  }
}

/* The recipient as it may appear in logs. */
static void masked_recipient(const struct h_job *job, char *out, size_t outlen) {
  if (strcmp(job->channel, "email") == 0 && job->email != NULL) {
    h_mask_email(job->email, out, outlen);
  } else if (strcmp(job->channel, "sms") == 0 && job->phone != NULL) {
    h_mask_phone(job->phone, out, outlen);
  } else if (strcmp(job->channel, "push") == 0) {
    snprintf(out, outlen, "%zu device(s)", job->ndevices);
  } else if (strcmp(job->channel, "webhook") == 0 && job->endpoint != NULL) {
    snprintf(out, outlen, "endpoint %s", job->endpoint->id);
  } else {
    snprintf(out, outlen, "-");
  }
}

enum h_outcome h_rt_outcome_of(const char *status) {
  static const char *names[] = {"sent", "scheduled", "failed", "dead", "skipped",
                                "throttled", "digest", "capped"};
  static const enum h_outcome outs[] = {H_OUT_SENT, H_OUT_RETRY, H_OUT_FAILED, H_OUT_DEAD,
                                        H_OUT_SKIPPED, H_OUT_THROTTLED, H_OUT_DIGEST,
                                        H_OUT_CAPPED};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(status, names[i]) == 0) {
      return outs[i];
    }
  }
  return H_OUT_FAILED;
}

void h_rt_log_outcome(struct h_wthread *t, const struct h_job *job,
                      const struct h_job_outcome *o) {
  enum h_log_level level = strcmp(o->status, "sent") == 0 || strcmp(o->status, "skipped") == 0
                               ? H_LOG_INFO
                               : H_LOG_WARNING;
  if (level > h_log_threshold) {
    return;
  }
  char to[96];
  masked_recipient(job, to, sizeof(to));
  json_t *fields = json_pack("{sssssiss?siss}", "delivery_id", job->id, "status", o->status,
                             "attempt", job->attempts, "provider", o->provider, "duration_ms",
                             o->duration_ms, "to", to);
  if (o->error != NULL) {
    json_object_set_new(fields, "error", json_string(o->error));
  }
  h_log_emit(level, "event", NULL, fields, "delivery %s %s via %s (attempt %d)", job->id,
             o->status, o->provider != NULL ? o->provider : "-", job->attempts);
}

/* One claimed job, from the provider call to the Redis move. */
static void run_job(struct h_wthread *t, struct h_job *job) {
  struct h_rt *rt = t->rt;
  struct h_send_result res;
  struct h_job_outcome o;
  int duration_ms = 0;
  h_wmetrics_in_flight(rt->metrics, 1);
  if (!load_targets(t, job)) {
    h_wmetrics_in_flight(rt->metrics, -1);
    return; /* drain deadline passed: the reaper recovers it */
  }
  h_rt_attempt(t, job, &res, &duration_ms);
  h_rt_decide(t, job, &res, duration_ms, &o);
  h_result r = record(t, job, &o);
  h_wmetrics_in_flight(rt->metrics, -1);
  if (r == H_OK) {
    count_endpoint(t, job, &res);
    settle(t, job->id, o.status, o.due_at);
    h_wmetrics_outcome(rt->metrics, h_rt_outcome_of(o.status));
    h_rt_log_outcome(t, job, &o);
  } else if (r == H_ERR_CONFLICT) {
    settle(t, job->id, "done", 0);
    h_wmetrics_outcome(rt->metrics, H_OUT_FENCED);
    h_log_warning("%s: delivery %s was taken over by another worker (fencing token %lld is "
                  "stale); outcome '%s' discarded", t->worker_id, job->id, job->fencing_token,
                  o.status);
  }
  json_decref(res.meta);
  json_decref(res.deactivate_tokens);
  json_decref(res.calls);
}

static void process(struct h_wthread *t, const char *id) {
  struct h_job job;
  double due = 0;
  h_result r = claim(t, id, &job, &due);
  if (r == H_ERR_NOT_FOUND) {
    h_log_debug("%s: %s is not claimable (duplicate or done): dropped", t->worker_id, id);
    h_wmetrics_outcome(t->rt->metrics, H_OUT_DROPPED);
    settle(t, id, "done", 0);
  } else if (r == H_ERR_CONFLICT) {
    settle(t, id, "scheduled", due); /* early: back to the delayed set */
  } else if (r != H_OK) {
    h_wmetrics_outcome(t->rt->metrics, H_OUT_RETURNED);
    settle(t, id, "ready", 0);
  } else {
    run_job(t, &job);
    h_job_free(&job);
  }
}

/* The loop of one id at a time (--batch 1). */
static void one_by_one(struct h_wthread *t) {
  struct h_rt *rt = t->rt;
  int fails = 0;
  char id[128];
  while (!atomic_load(&rt->stop) && take_budget(rt)) {
    int got = h_rt_fetch_one(t, id, sizeof(id), &fails);
    if (got <= 0) {
      atomic_fetch_add(&rt->jobs_left, 1);
      if (got == 0 && rt->opts->once) {
        break;
      }
      continue;
    }
    if (atomic_load(&rt->stop)) { /* taken while SIGTERM arrived: not started, hand it back */
      h_wmetrics_outcome(rt->metrics, H_OUT_RETURNED);
      settle(t, id, "ready", 0);
      break;
    }
    process(t, id);
  }
}

void *h_rt_worker_thread(void *arg) {
  struct h_wthread *t = arg;
  struct h_rt *rt = t->rt;
  h_rt_providers_open(t);
  int size = h_rt_batch_size(rt);
  if (size > 1) {
    h_rt_batch_loop(t, size);
  } else {
    one_by_one(t);
  }
  h_rt_providers_close(t);
  atomic_store(&t->finished, true);
  return NULL;
}

/* ---- --dry-run ---- */

static void dry_run_one(struct h_rt *rt, struct h_wthread *m, const char *id) {
  struct h_job job;
  h_result r = h_job_load(m->pg, id, &job);
  if (r == H_OK && rt->def->needs_devices) {
    r = h_job_load_devices(m->pg, &job);
  } else if (r == H_OK && rt->def->needs_endpoint) {
    r = h_job_load_endpoint(m->pg, &job);
  }
  if (r != H_OK) {
    printf("%s\t(not loadable: %s)\n", id, h_result_name(r));
    return;
  }
  const struct h_provider *first = rt->set.providers[0];
  char *summary = first->render != NULL ? first->render(rt->set.shared[0], &job) : h_strdup("-");
  char to[96];
  masked_recipient(&job, to, sizeof(to));
  printf("%s\t%s\tattempt %d\tto %s\t%s\n", id, job.channel, job.attempts + 1, to, summary);
  h_log(H_LOG_INFO, "event", NULL, "dry-run: delivery %s would be sent via %s to %s: %s", id,
        first->name, to, summary);
  free(summary);
  h_job_free(&job);
}

int h_rt_dry_run(struct h_rt *rt) {
  struct h_wthread *m = &rt->maint;
  long n = rt->opts->max_jobs > 0 ? rt->opts->max_jobs : 10000;
  char start[32];
  snprintf(start, sizeof(start), "%ld", -n);
  const char *argv[] = {"LRANGE", rt->ready_key, start, "-1"};
  redisReply *reply = NULL;
  if (h_rt_redis(m, &reply, 4, argv, rt->cfg->redis_timeout_ms) != H_OK || h_rt_pg(m) != H_OK) {
    fprintf(stderr, "%s --dry-run: Redis or PostgreSQL is unavailable\n", rt->def->program);
    freeReplyObject(reply);
    return 1;
  }
  /* The right end is taken first: print in the order the jobs would go. */
  for (size_t i = reply->elements; i > 0; i--) {
    dry_run_one(rt, m, reply->element[i - 1]->str);
  }
  printf("dry-run: %zu job(s) ready in %s; nothing was sent or changed\n", reply->elements,
         rt->ready_key);
  freeReplyObject(reply);
  return 0;
}

/* batch.c - a worker thread taking up to N ids at a time (see batch.h). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "failover.h"
#include "jobs_batch.h"
#include "core/log.h"

/* One thread's batch, allocated once for its size. */
struct batch {
  int size;
  char (*ids)[128];             /* [size] ids fetched into the processing list */
  int nids;
  struct h_claim_item *items;   /* [size] the distinct ones */
  size_t nitems;
  struct h_job **jobs;          /* [size] claimed, pointing into items */
  size_t njobs;
  struct h_send_result *res;    /* [size] */
  struct h_job_outcome *outs;   /* [size] borrow from res */
  double *at;                   /* [size] when each attempt ended (unix seconds) */
  const struct h_job **wjobs;   /* [size] the window's jobs the gate let through */
  struct h_send_result **wres;  /* [size] their results, in res */
  h_result *recorded;           /* [size] */
  struct h_move *moves;         /* [size] borrow ids from ids/jobs */
  size_t nmoves;
  double call_ms;               /* moving average of a window's provider calls' duration */
  size_t per;                   /* jobs attempted at once (window_size) */
};

int h_rt_batch_size(const struct h_rt *rt) {
  if (rt->def->needs_endpoint) {
    return 1; /* every attempt is counted against its endpoint: h_rt_attempt one by one */
  }
  return rt->opts->batch > 0 ? rt->opts->batch : rt->cfg->worker_batch;
}

/* Jobs attempted at once: HERALD_WORKER_IN_FLIGHT (or --in-flight) when every provider of
 * the channel can send several at once (send_many, or one HTTP request per job), else 1. */
static size_t window_size(const struct h_rt *rt) {
  for (int i = 0; i < rt->set.n; i++) {
    const struct h_provider *p = rt->set.providers[i];
    if (p->send_many == NULL && p->http == NULL) {
      return 1;
    }
  }
  return (size_t)rt->cfg->worker_in_flight;
}

/* Allocates a batch of size; free it with batch_free. */
static struct batch *batch_new(int size) {
  struct batch *b = h_calloc(1, sizeof(*b));
  size_t n = (size_t)size;
  b->size = size;
  b->ids = h_calloc(n, sizeof(*b->ids));
  b->items = h_calloc(n, sizeof(*b->items));
  b->jobs = h_calloc(n, sizeof(*b->jobs));
  b->res = h_calloc(n, sizeof(*b->res));
  b->outs = h_calloc(n, sizeof(*b->outs));
  b->at = h_calloc(n, sizeof(*b->at));
  b->wjobs = h_calloc(n, sizeof(*b->wjobs));
  b->wres = h_calloc(n, sizeof(*b->wres));
  b->recorded = h_calloc(n, sizeof(*b->recorded));
  b->moves = h_calloc(n, sizeof(*b->moves));
  b->call_ms = 1e9; /* unknown yet: the first batch is one window */
  return b;
}

static void batch_free(struct batch *b) {
  free(b->ids);
  free(b->items);
  free(b->jobs);
  free(b->res);
  free(b->outs);
  free(b->at);
  free(b->wjobs);
  free(b->wres);
  free(b->recorded);
  free(b->moves);
  free(b);
}

static void add_move(struct batch *b, const char *id, char kind, double due) {
  b->moves[b->nmoves++] = (struct h_move){.id = id, .kind = kind, .due = due};
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* How many ids to fetch next: as many windows of per jobs (sent at once) as the provider
 * calls take in the batch window (HERALD_WORKER_BATCH_WINDOW_MS), at least one window and
 * at most the batch size. */
static int next_size(const struct batch *b, int window_ms) {
  double fit = (double)window_ms / (b->call_ms > 0.001 ? b->call_ms : 0.001) * (double)b->per;
  double least = (double)b->per;
  fit = fit < least ? least : fit;
  return fit >= (double)b->size ? b->size : (int)fit;
}

/* Takes up to want jobs from the --max-jobs budget; returns how many (0: spent). */
static int take_budget(struct h_rt *rt, int want) {
  long cur = atomic_load(&rt->jobs_left);
  for (;;) {
    if (cur <= 0) {
      return 0;
    }
    long n = cur < want ? cur : want;
    if (atomic_compare_exchange_weak(&rt->jobs_left, &cur, cur - n)) {
      return (int)n;
    }
  }
}

/* Fills b->ids with up to want ids: a non-blocking take, else one blocking
 * BLMOVE topped up by a second take. Returns the count, or -1 (already waited). */
static int fetch_batch(struct h_wthread *t, struct batch *b, int want, int *fails) {
  struct h_rt *rt = t->rt;
  int got = 0;
  if (t->list_unknown && atomic_load(&rt->heartbeat_ok)) {
    got = h_rt_take_own(t, want, b->ids);
  }
  if (got == 0) {
    got = atomic_load(&rt->heartbeat_ok) ? h_rt_take(t, want, b->ids) : 0;
  }
  if (got < 0) {
    bool reported = *fails > 0;
    h_rt_report(t, &reported, "taking a batch", H_ERR_UNAVAILABLE);
    h_rt_backoff(t, fails, &rt->stop);
    return -1;
  }
  if (got == 0) { /* nothing ready (or no heartbeat: fetch_one waits) */
    got = h_rt_fetch_one(t, b->ids[0], sizeof(b->ids[0]), fails);
    if (got == 1 && want > 1) {
      int more = h_rt_take(t, want - 1, b->ids + 1);
      got += more > 0 ? more : 0; /* a failed top-up leaves the batch at one */
    }
  }
  if (got > 0) {
    *fails = 0;
  }
  return got;
}

/* b->items from b->ids; an id already in the batch is acknowledged (dropped): the
 * processing list holds it twice and one claim covers both. */
static void distinct_items(struct h_wthread *t, struct batch *b) {
  b->nitems = b->nmoves = b->njobs = 0;
  for (int i = 0; i < b->nids; i++) {
    bool seen = false;
    for (size_t j = 0; j < b->nitems && !seen; j++) {
      seen = strcmp(b->items[j].id, b->ids[i]) == 0;
    }
    if (seen) {
      h_wmetrics_outcome(t->rt->metrics, H_OUT_DROPPED);
      add_move(b, b->ids[i], 'a', 0);
    } else {
      memset(&b->items[b->nitems], 0, sizeof(b->items[0]));
      b->items[b->nitems++].id = b->ids[i];
    }
  }
}

/* The arguments of claim_run and db_run. */
struct step_arg {
  struct h_wthread *t;
  struct batch *b;
  char step;
  size_t from, n;
};

static h_result claim_run(PGconn *pg, void *arg) {
  struct step_arg *a = arg;
  return h_job_claim_batch(pg, a->b->items, a->b->nitems, a->t->rt->channel, a->t->worker_id);
}

/* Claims every item, retrying while PostgreSQL is away. H_ERR_UNAVAILABLE means
 * "stopped before claiming": the ids go back to the ready list. */
static h_result claim_all(struct h_wthread *t, struct batch *b) {
  struct step_arg a = {.t = t, .b = b};
  struct h_rt_pg_step step = {"claim", claim_run, &a, H_OK, H_OK, &t->rt->stop, false};
  return h_rt_pg_retry(t, &step) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
}

/* Sorts the claim results: claimed jobs into b->jobs, the others into moves. */
static void sort_claims(struct h_wthread *t, struct batch *b) {
  for (size_t i = 0; i < b->nitems; i++) {
    struct h_claim_item *it = &b->items[i];
    if (it->result == H_OK) {
      b->jobs[b->njobs++] = &it->job;
    } else if (it->result == H_ERR_CONFLICT) {
      add_move(b, it->id, 'd', it->due_at); /* early: back to the delayed set */
    } else {
      h_log_debug("%s: %s is not claimable (duplicate or done): dropped", t->worker_id, it->id);
      h_wmetrics_outcome(t->rt->metrics, H_OUT_DROPPED);
      add_move(b, it->id, 'a', 0);
    }
  }
}

static h_result db_run(PGconn *pg, void *arg) {
  struct step_arg *a = arg;
  struct batch *b = a->b;
  return a->step == 'd'   ? h_job_load_devices_batch(pg, b->jobs, a->n)
         : a->step == 'r' ? h_job_record_batch(pg, b->jobs, b->outs, b->at, a->n, b->recorded)
                          : h_job_unclaim_batch(pg, b->jobs + a->from, a->n - a->from);
}

/* Runs a database step of the batch, retrying while PostgreSQL is away until the
 * drain deadline. step is 'd' (load devices), 'r' (record) or 'u' (unclaim
 * jobs[from..njobs), one try). */
static h_result db_step(struct h_wthread *t, struct batch *b, char step, size_t from,
                        size_t n) {
  static const char *names[] = {"loading devices", "recording the outcomes", "unclaiming"};
  struct step_arg a = {t, b, step, from, n};
  struct h_rt_pg_step s = {names[step == 'd' ? 0 : step == 'r' ? 1 : 2], db_run, &a, H_OK,
                           H_OK, &t->rt->hard_stop, step == 'u'};
  return h_rt_pg_retry(t, &s);
}

/* Attempts jobs[from..from+w): those the gate lets through at once (h_rt_send_chain_many),
 * then each one's outcome into b->outs. */
static void attempt_window(struct h_wthread *t, struct batch *b, size_t from, size_t w) {
  size_t m = 0;
  for (size_t k = from; k < from + w; k++) {
    if (h_rt_gate(t, b->jobs[k], &b->res[k])) {
      b->wjobs[m] = b->jobs[k];
      b->wres[m++] = &b->res[k];
    }
  }
  if (m > 0) {
    h_rt_send_chain_many(t, b->wjobs, b->wres, m);
  }
  double at = h_rt_wall();
  for (size_t k = from; k < from + w; k++) {
    h_rt_decide(t, b->jobs[k], &b->res[k], b->res[k].duration_ms, &b->outs[k]);
    b->at[k] = at;
  }
}

/* Attempts the claimed jobs, a window at a time (window_size). On a drain the jobs not
 * attempted yet are handed back (claim undone, id to the front of the ready list);
 * returns how many were attempted, whose outcomes are in b->outs. */
static size_t attempt_all(struct h_wthread *t, struct batch *b) {
  bool handed_back = false;
  size_t per = b->per;
  for (size_t i = 0; i < b->njobs;) {
    if (!handed_back && atomic_load(&t->rt->stop)) {
      if (db_step(t, b, 'u', i, b->njobs) == H_OK) {
        for (size_t j = i; j < b->njobs; j++) {
          h_wmetrics_outcome(t->rt->metrics, H_OUT_RETURNED);
          add_move(b, b->jobs[j]->id, 'r', 0);
        }
        h_wmetrics_in_flight(t->rt->metrics, -(int)(b->njobs - i));
        return i;
      }
      handed_back = true; /* could not undo the claims: finish the jobs instead */
    }
    size_t w = b->njobs - i < per ? b->njobs - i : per;
    double start = now_ms();
    attempt_window(t, b, i, w);
    double took = now_ms() - start;
    b->call_ms = b->call_ms > 1e8 ? took : 0.8 * b->call_ms + 0.2 * took;
    i += w;
  }
  return b->njobs;
}

/* The moves, metrics and logs of n recorded outcomes. */
static void conclude(struct h_wthread *t, struct batch *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct h_job *job = b->jobs[i];
    const struct h_job_outcome *o = &b->outs[i];
    if (b->recorded[i] == H_OK) {
      add_move(b, job->id, h_rt_move_kind(o->status), o->due_at);
      h_wmetrics_outcome(t->rt->metrics, h_rt_outcome_of(o->status));
      h_rt_log_outcome(t, job, o);
    } else {
      add_move(b, job->id, 'a', 0);
      h_wmetrics_outcome(t->rt->metrics, H_OUT_FENCED);
      h_log_warning("%s: delivery %s was taken over by another worker (fencing token %lld is "
                    "stale); outcome '%s' discarded", t->worker_id, job->id, job->fencing_token,
                    o->status);
    }
  }
}

/* Devices, attempts and the one recording transaction of the claimed jobs. */
static void run_jobs(struct h_wthread *t, struct batch *b) {
  struct h_rt *rt = t->rt;
  h_wmetrics_in_flight(rt->metrics, (int)b->njobs);
  if (rt->def->needs_devices && db_step(t, b, 'd', 0, b->njobs) != H_OK) {
    h_wmetrics_in_flight(rt->metrics, -(int)b->njobs);
    b->njobs = 0; /* drain deadline passed: the reaper recovers them */
    return;
  }
  size_t n = attempt_all(t, b);
  h_result r = n > 0 ? db_step(t, b, 'r', 0, n) : H_OK;
  h_wmetrics_in_flight(rt->metrics, -(int)n);
  if (r != H_OK) {
    h_log_error("%s: gave up recording %zu outcome(s) (%s); the reaper will recover them",
                t->worker_id, n, h_result_name(r));
    return;
  }
  conclude(t, b, n);
}

/* The Redis moves after COMMIT, retried while Redis is away (until the drain
 * deadline; an id left behind is harmless: the reaper finds its row done). */
static void apply_moves(struct h_wthread *t, struct batch *b) {
  int fails = 0;
  bool reported = false;
  while (b->nmoves > 0) {
    h_result r = h_rt_apply_moves(t, b->moves, b->nmoves);
    if (r == H_OK) {
      break;
    }
    h_rt_report(t, &reported, "moving the ids after commit", r);
    if (!h_rt_backoff(t, &fails, &t->rt->hard_stop)) {
      break;
    }
  }
  b->nmoves = 0;
}

static void release_batch(struct batch *b) {
  for (size_t i = 0; i < b->nitems; i++) {
    if (b->items[i].result == H_OK) {
      h_job_free(&b->items[i].job);
    }
  }
  for (size_t i = 0; i < b->njobs; i++) {
    json_decref(b->res[i].meta);
    json_decref(b->res[i].deactivate_tokens);
    json_decref(b->res[i].calls);
  }
  memset(b->res, 0, (size_t)b->size * sizeof(*b->res));
  b->nitems = b->njobs = 0;
}

/* Every fetched id back to the front of the ready list (stopped before claiming). */
static void hand_back(struct h_wthread *t, struct batch *b) {
  b->nmoves = 0;
  for (int i = 0; i < b->nids; i++) {
    h_wmetrics_outcome(t->rt->metrics, H_OUT_RETURNED);
    add_move(b, b->ids[i], 'r', 0);
  }
  apply_moves(t, b);
}

static void process_batch(struct h_wthread *t, struct batch *b) {
  distinct_items(t, b);
  if (claim_all(t, b) != H_OK) {
    hand_back(t, b);
    return;
  }
  sort_claims(t, b);
  if (b->njobs > 0) {
    run_jobs(t, b);
  }
  apply_moves(t, b);
  release_batch(b);
}

void h_rt_batch_loop(struct h_wthread *t, int size) {
  struct h_rt *rt = t->rt;
  struct batch *b = batch_new(size);
  b->per = window_size(rt);
  int fails = 0;
  int want;
  while (!atomic_load(&rt->stop) &&
         (want = take_budget(rt, next_size(b, rt->cfg->worker_batch_window_ms))) > 0) {
    b->nids = fetch_batch(t, b, want, &fails);
    atomic_fetch_add(&rt->jobs_left, want - (b->nids > 0 ? b->nids : 0));
    if (b->nids <= 0) {
      if (b->nids == 0 && rt->opts->once) {
        break;
      }
      continue;
    }
    if (atomic_load(&rt->stop)) { /* taken while SIGTERM arrived: not started, hand back */
      hand_back(t, b);
      break;
    }
    process_batch(t, b);
  }
  batch_free(b);
}

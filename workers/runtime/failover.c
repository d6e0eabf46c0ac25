/* failover.c - the channel's providers in order: per-thread state, the set's life,
 * and an attempt at a window of jobs through them (the first whose breaker lets it through; a
 * retryable failure moves on to the next, any other answer ends the attempt). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "core/alloc.h"
#include "breaker.h"
#include "failover.h"
#include "net/http_client.h"

int h_provider_list_split(const char *list, char names[H_MAX_PROVIDERS][16]) {
  int n = 0;
  const char *p = list;
  while (*p != '\0' && n < H_MAX_PROVIDERS) {
    size_t len = strcspn(p, ",");
    if (len > 0 && len < 16) {
      snprintf(names[n++], 16, "%.*s", (int)len, p);
    }
    p += len;
    p += *p == ',' ? 1 : 0;
  }
  return n;
}

h_result h_provider_set_build(const struct h_config *cfg, const char *ordered, const char *single,
                              const struct h_provider_catalog *cat, struct h_provider_set *set,
                              char **error) {
  char names[H_MAX_PROVIDERS][16];
  int n = h_provider_list_split(ordered[0] != '\0' ? ordered : single, names);
  set->breakers = ordered[0] != '\0';
  *error = NULL;
  for (int i = 0; i < n; i++) {
    const struct h_provider *p = NULL;
    for (size_t k = 0; cat->all[k] != NULL && p == NULL; k++) {
      p = strcmp(cat->all[k]->name, names[i]) == 0 ? cat->all[k] : NULL;
    }
    if (p == NULL) {
      *error = h_sprintf("%s: '%s' is not a provider of this channel", cat->list_var, names[i]);
      return H_ERR_INVALID;
    }
    void *shared = NULL;
    h_result r = cat->setup(cfg, p, &shared, error);
    if (r != H_OK) {
      p->destroy(shared);
      return r;
    }
    set->providers[set->n] = p;
    set->shared[set->n++] = shared;
  }
  return H_OK;
}

void h_rt_providers_open(struct h_wthread *t) {
  const struct h_provider_set *set = &t->rt->set;
  for (int i = 0; i < set->n; i++) {
    const struct h_provider *p = set->providers[i];
    t->provider_states[i] = p->http != NULL          ? h_provider_multi_open(t->rt->cfg)
                            : p->thread_open != NULL ? p->thread_open(set->shared[i])
                                                     : NULL;
  }
}

void h_rt_providers_close(struct h_wthread *t) {
  const struct h_provider_set *set = &t->rt->set;
  h_breaker_flush(t);
  for (int i = 0; i < set->n; i++) {
    if (set->providers[i]->http != NULL) {
      h_http_multi_destroy(t->provider_states[i]);
    } else if (set->providers[i]->thread_close != NULL) {
      set->providers[i]->thread_close(t->provider_states[i]);
    }
    t->provider_states[i] = NULL;
  }
}

void h_provider_set_destroy(struct h_provider_set *set) {
  for (int i = 0; i < set->n; i++) {
    if (set->providers[i]->destroy != NULL) {
      set->providers[i]->destroy(set->shared[i]);
    }
  }
  memset(set, 0, sizeof(*set));
}

void h_provider_set_names(const struct h_provider_set *set, char *out, size_t outlen) {
  out[0] = '\0';
  for (int i = 0; i < set->n; i++) {
    size_t len = strlen(out);
    snprintf(out + len, outlen - len, "%s%s", i > 0 ? "," : "", set->providers[i]->name);
  }
}

/* The wall clock as RFC 3339 UTC with milliseconds into out[32]. */
static void rfc3339_now(char out[32]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000));
}

static const char *call_status(enum h_send_status s) {
  return s == H_SEND_OK ? "sent" : s == H_SEND_RETRY ? "retry"
                               : s == H_SEND_PERMANENT ? "failed" : "skipped";
}

/* One provider call of job appended to calls: what it gave and how long it took. */
static void add_call(json_t *calls, const struct h_job *job, const char *provider,
                     const char *status, const char *error, int duration_ms) {
  char at[32];
  rfc3339_now(at);
  json_t *c = json_pack("{sisssssiss}", "attempt", job->attempts, "provider", provider, "status",
                        status, "duration_ms", duration_ms, "at", at);
  if (error != NULL && error[0] != '\0') {
    json_object_set_new(c, "error", json_string(error));
  }
  json_array_append_new(calls, c);
}

/* Clears res for the next provider's call (what the last one owned is freed). */
static void reset_result(struct h_send_result *res) {
  json_decref(res->meta);
  json_decref(res->deactivate_tokens);
  json_t *calls = res->calls;
  memset(res, 0, sizeof(*res));
  res->retry_after_s = -1;
  res->calls = calls;
}

/* How long the watchdog lets n jobs' requests take at provider i: each request is bounded
 * by HERALD_PROVIDER_TIMEOUT_MS, a window sends in_flight of them at a time, and a provider
 * may fetch a credential and send a round again after a 401. */
static int window_timeout_ms(const struct h_rt *rt, const struct h_job *const *jobs, size_t n) {
  size_t requests = 0;
  for (size_t k = 0; k < n; k++) {
    requests += jobs[k]->ndevices > 0 ? jobs[k]->ndevices : 1;
  }
  size_t per = (size_t)rt->cfg->worker_in_flight;
  long long rounds = (long long)((requests + per - 1) / per) * 2 + 1;
  long long ms = rounds * rt->cfg->provider_timeout_ms;
  return ms < 24LL * 3600 * 1000 ? (int)ms : 24 * 3600 * 1000;
}

/* Calls provider i for jobs[0..n) under the watchdog: all at once when it can, else one
 * by one; each res[k]->duration_ms receives its job's time. */
static void call_provider(struct h_wthread *t, int i, const struct h_job *const *jobs,
                          struct h_send_result *const *res, size_t n) {
  struct h_rt *rt = t->rt;
  const struct h_provider *p = rt->set.providers[i];
  if (p->http != NULL || p->send_many != NULL) {
    h_rt_watch_begin(t, "provider calls", -1, window_timeout_ms(rt, jobs, n));
    if (p->http != NULL) {
      h_send_http_jobs(rt->set.shared[i], t->provider_states[i], p->http, jobs, res, n);
    } else {
      p->send_many(rt->set.shared[i], t->provider_states[i], jobs, res, n);
    }
    h_rt_watch_end(t);
  } else {
    for (size_t k = 0; k < n; k++) {
      long long start = h_rt_now_ms();
      h_rt_watch_begin(t, "provider call", -1, rt->cfg->provider_timeout_ms);
      p->send(rt->set.shared[i], t->provider_states[i], jobs[k], res[k]);
      h_rt_watch_end(t);
      res[k]->duration_ms = (int)(h_rt_now_ms() - start);
    }
  }
  for (size_t k = 0; k < n; k++) {
    h_wmetrics_latency(rt->metrics, (double)res[k]->duration_ms / 1000.0);
  }
}

/* Where one job of a chain stands. */
struct chain_job {
  bool called;   /* a provider was called for it */
  bool ended;    /* its last call gave an answer other than H_SEND_RETRY */
  int total_ms;  /* its calls' time */
};

void h_rt_send_chain_many(struct h_wthread *t, const struct h_job *const *jobs,
                          struct h_send_result *const *res, size_t n) {
  struct h_rt *rt = t->rt;
  static const enum h_call calls_of[] = {H_CALL_OK, H_CALL_RETRY, H_CALL_PERMANENT, H_CALL_OK};
  struct chain_job *c = h_calloc(n, sizeof(*c));
  size_t *idx = h_calloc(n, sizeof(*idx)); /* the jobs given to this provider */
  const struct h_job **wjobs = h_calloc(n, sizeof(*wjobs));
  struct h_send_result **wres = h_calloc(n, sizeof(*wres));
  for (size_t k = 0; k < n; k++) {
    res[k]->calls = json_array();
  }
  for (int i = 0; i < rt->set.n; i++) {
    const char *name = rt->set.providers[i]->name;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
      if (c[k].ended) {
        continue;
      }
      if (rt->set.breakers && !h_breaker_allow(t, i)) {
        h_wmetrics_call(rt->metrics, i, H_CALL_BREAKER_OPEN);
        add_call(res[k]->calls, jobs[k], name, "breaker_open", NULL, 0);
        continue;
      }
      if (c[k].called) {
        h_wmetrics_failover(rt->metrics); /* the last provider called asked for a retry */
      }
      reset_result(res[k]);
      c[k].called = true;
      idx[m] = k;
      wjobs[m] = jobs[k];
      wres[m++] = res[k];
    }
    if (m > 0) {
      call_provider(t, i, wjobs, wres, m);
    }
    for (size_t w = 0; w < m; w++) {
      struct h_send_result *r = wres[w];
      r->provider = name;
      add_call(r->calls, wjobs[w], name, call_status(r->status), r->error, r->duration_ms);
      h_wmetrics_call(rt->metrics, i, calls_of[r->status]);
      if (rt->set.breakers && r->status != H_SEND_SKIP) {
        h_breaker_report(t, i, r->status != H_SEND_RETRY);
      }
      c[idx[w]].total_ms += r->duration_ms;
      c[idx[w]].ended = r->status != H_SEND_RETRY;
    }
  }
  for (size_t k = 0; k < n; k++) {
    if (!c[k].called) {
      reset_result(res[k]);
      res[k]->status = H_SEND_RETRY;
      h_send_errorf(res[k], "every provider's circuit breaker is open");
    }
    res[k]->duration_ms = c[k].total_ms;
  }
  free(wres);
  free(wjobs);
  free(idx);
  free(c);
}

void h_rt_send_chain(struct h_wthread *t, const struct h_job *job, struct h_send_result *res) {
  h_rt_send_chain_many(t, &job, &res, 1);
}

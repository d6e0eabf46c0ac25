/* failover.c - the channel's providers in order: per-thread state, the set's life,
 * and one job's attempt through them (the first whose breaker lets it through; a
 * retryable failure moves on to the next, any other answer ends the attempt). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "core/alloc.h"
#include "breaker.h"
#include "failover.h"

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
    t->provider_states[i] = p->thread_open != NULL ? p->thread_open(set->shared[i]) : NULL;
  }
}

void h_rt_providers_close(struct h_wthread *t) {
  const struct h_provider_set *set = &t->rt->set;
  h_breaker_flush(t);
  for (int i = 0; i < set->n; i++) {
    if (set->providers[i]->thread_close != NULL) {
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

/* Calls provider i under the watchdog; returns the call's duration in ms. */
static int call_provider(struct h_wthread *t, int i, const struct h_job *job,
                         struct h_send_result *res) {
  struct h_rt *rt = t->rt;
  long long start = h_rt_now_ms();
  h_rt_watch_begin(t, "provider call", -1, rt->cfg->provider_timeout_ms);
  rt->set.providers[i]->send(rt->set.shared[i], t->provider_states[i], job, res);
  h_rt_watch_end(t);
  int ms = (int)(h_rt_now_ms() - start);
  h_wmetrics_latency(rt->metrics, (double)ms / 1000.0);
  return ms;
}

void h_rt_send_chain(struct h_wthread *t, const struct h_job *job, struct h_send_result *res) {
  struct h_rt *rt = t->rt;
  static const enum h_call calls_of[] = {H_CALL_OK, H_CALL_RETRY, H_CALL_PERMANENT, H_CALL_OK};
  res->calls = json_array();
  bool called = false, failed = false;
  for (int i = 0; i < rt->set.n; i++) {
    const char *name = rt->set.providers[i]->name;
    if (rt->set.breakers && !h_breaker_allow(t, i)) {
      h_wmetrics_call(rt->metrics, i, H_CALL_BREAKER_OPEN);
      add_call(res->calls, job, name, "breaker_open", NULL, 0);
      continue;
    }
    if (failed) {
      h_wmetrics_failover(rt->metrics);
    }
    reset_result(res);
    int ms = call_provider(t, i, job, res);
    res->provider = name;
    called = true;
    add_call(res->calls, job, name, call_status(res->status), res->error, ms);
    h_wmetrics_call(rt->metrics, i, calls_of[res->status]);
    if (rt->set.breakers && res->status != H_SEND_SKIP) {
      h_breaker_report(t, i, res->status != H_SEND_RETRY);
    }
    if (res->status != H_SEND_RETRY) {
      return;
    }
    failed = true;
  }
  if (!called) {
    reset_result(res);
    res->status = H_SEND_RETRY;
    h_send_errorf(res, "every provider's circuit breaker is open");
  }
}

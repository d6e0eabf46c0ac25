/* failover.h - the channel's ordered providers inside the runtime (failover.c).
 *
 * Ownership: every pointer taken is borrowed for the call. */
#ifndef HERALD_WORKER_FAILOVER_H
#define HERALD_WORKER_FAILOVER_H

#include <stddef.h>

#include "rt.h"

/* Opens (closes) t's state of every provider of the set. */
void h_rt_providers_open(struct h_wthread *t);
void h_rt_providers_close(struct h_wthread *t);

/* Destroys every provider's shared state and clears set. */
void h_provider_set_destroy(struct h_provider_set *set);

/* "smtp,sendgrid" into out. */
void h_provider_set_names(const struct h_provider_set *set, char *out, size_t outlen);

/* One attempt at job through the providers in order: skips those whose breaker is open,
 * moves on after H_SEND_RETRY, stops at any other answer. res (zeroed, retry_after_s -1)
 * receives the last call's answer, res->provider its provider (NULL when every breaker
 * was open: then H_SEND_RETRY) and res->calls every call (caller json_decrefs). */
void h_rt_send_chain(struct h_wthread *t, const struct h_job *job, struct h_send_result *res);
/* The same for jobs[0..n) at once: each provider is given the jobs still to attempt
 * together (its send_many, else send for each in turn); res[k] answers jobs[k]. */
void h_rt_send_chain_many(struct h_wthread *t, const struct h_job *const *jobs,
                          struct h_send_result *const *res, size_t n);

#endif

/* webhook.h - herald-webhook's provider: a notification as a signed POST (Standard
 * Webhooks) to the delivery's endpoint, in the endpoint's format, reaching only the
 * address the SSRF check passed. */
#ifndef HERALD_WEBHOOK_WORKER_H
#define HERALD_WEBHOOK_WORKER_H

#include "worker.h"

/* The h_worker_def factory: checks HERALD_WEBHOOK_ALLOW_NETS and builds the provider. */
h_result h_webhook_create(const struct h_config *cfg, struct h_provider_set *set,
                          char **error);

#endif

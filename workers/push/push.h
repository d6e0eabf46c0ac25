/* push.h - herald-push: its provider factory. */
#ifndef HERALD_PUSH_H
#define HERALD_PUSH_H

#include "worker.h"

/* The provider of HERALD_PUSH_PROVIDER (file or fcm); see struct h_worker_def. */
h_result h_push_create(const struct h_config *cfg, struct h_provider_set *set, char **error);

#endif

/* email.h - herald-email: its provider factory and the message it sends. */
#ifndef HERALD_EMAIL_H
#define HERALD_EMAIL_H

#include "worker.h"

/* The provider of HERALD_EMAIL_PROVIDER (file or smtp); see struct h_worker_def. */
h_result h_email_create(const struct h_config *cfg, const struct h_provider **provider,
                        void **shared, char **error);

/* The complete message for job (shared: what h_email_create made). New string
 * the caller frees. */
char *h_email_render(const void *shared, const struct h_job *job, const char *boundary);

#endif

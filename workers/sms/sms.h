/* sms.h - herald-sms: its provider factory. */
#ifndef HERALD_SMS_H
#define HERALD_SMS_H

#include "worker.h"

/* The provider of HERALD_SMS_PROVIDER (file or twilio); see struct h_worker_def. */
h_result h_sms_create(const struct h_config *cfg, const struct h_provider **provider,
                      void **shared, char **error);

#endif

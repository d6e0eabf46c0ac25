/* sms.h - herald-sms: its provider factory and what the providers share (sms.c: file
 * and twilio; vonage.c: vonage). */
#ifndef HERALD_SMS_H
#define HERALD_SMS_H

#include "segments.h"
#include "worker.h"

/* One provider's settings (each provider of the set has its own copy). */
struct sms_shared {
  const struct h_config *cfg; /* borrowed */
  char *url;                  /* the API's send URL, owned */
};

/* The providers of HERALD_SMS_PROVIDERS, else HERALD_SMS_PROVIDER; see struct
 * h_worker_def. */
h_result h_sms_create(const struct h_config *cfg, struct h_provider_set *set, char **error);

/* The text to send and its segments; false (out filled) when there is none. */
bool h_sms_message_text(const struct h_job *job, const char **text, struct h_sms_segments *seg,
                        struct h_send_result *out);

/* --dry-run's summary and the destroy of every SMS provider's shared state. */
char *h_sms_summary(void *shared, const struct h_job *job);
void h_sms_destroy(void *shared);

/* The Vonage-style provider (vonage.c) and the check of its settings into sh
 * (H_ERR_INVALID with *error naming the variable, caller frees). */
extern const struct h_provider h_sms_vonage;
h_result h_sms_vonage_setup(const struct h_config *cfg, struct sms_shared *sh, char **error);

#endif

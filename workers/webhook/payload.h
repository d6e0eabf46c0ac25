/* payload.h - the body of a webhook delivery in each endpoint format:
 *   json     {"type":"notification.created","timestamp":...,"data":{the notification}}
 *   slack    an incoming-webhook message: fallback text and blocks (header, section,
 *            a button to action_url, a context line)
 *   discord  an execute-webhook message: one embed, mentions disabled */
#ifndef HERALD_WEBHOOK_PAYLOAD_H
#define HERALD_WEBHOOK_PAYLOAD_H

#include <jansson.h>

#include "queue/jobs.h"

/* The body of job for format ("json", "slack", "discord"; anything else: json) at
 * timestamp (RFC 3339). New reference, never NULL. */
json_t *h_webhook_payload(const struct h_job *job, const char *format, const char *timestamp);

#endif

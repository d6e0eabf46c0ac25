/* push_options.h - the send request's `push` object (how a push notification is shown on
 * the device: silent, priority, ttl, collapse_key, badge, Android and APNs overrides) and
 * the FCM limits on the caller's `data`, checked before anything is queued. */
#ifndef HERALD_PUSH_OPTIONS_H
#define HERALD_PUSH_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/errors.h"

/* FCM's limit on a message's data payload, in bytes of keys and values. */
#define H_PUSH_DATA_MAX 4096
/* The longest `ttl` FCM keeps a message for (28 days), in seconds. */
#define H_PUSH_TTL_MAX 2419200

/* Checks body's `push` member and returns it (borrowed from body; NULL when absent or
 * invalid). When push may be sent (may_push), also checks data (borrowed, may be NULL) as
 * FCM's data payload: no key FCM or Herald reserves, at most H_PUSH_DATA_MAX bytes once
 * every value is a string. Every problem is recorded in fe. */
const json_t *h_push_options_parse(const json_t *body, const json_t *data, bool may_push,
                                   struct h_field_errors *fe);

#endif

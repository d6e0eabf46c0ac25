/* fcm_message.h - the FCM HTTP v1 message herald-push sends for a job. */
#ifndef HERALD_FCM_MESSAGE_H
#define HERALD_FCM_MESSAGE_H

#include <jansson.h>
#include <time.h>

#include "queue/jobs.h"

/* The message of job for one device token (new reference; job and token borrowed):
 *   - data: the notification's data with every value a string, plus delivery_id,
 *     notification_id, category and action_url;
 *   - notification {title, body}, left out when job->push says silent (data-only);
 *   - android {priority, ttl, collapse_key, notification.notification_count} and apns
 *     {headers apns-priority / apns-push-type / apns-expiration / apns-collapse-id,
 *     payload.aps badge or content-available}; the badge is job->unread unless push.badge
 *     is false; priority is push.priority, else high for high and critical notifications;
 *   - push.android and push.apns merged over those (the caller's values win).
 * now (unix seconds) dates apns-expiration. */
json_t *h_fcm_message(const struct h_job *job, const char *token, time_t now);

#endif

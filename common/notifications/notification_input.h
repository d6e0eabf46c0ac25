/* notification_input.h - reading the send fields shared by POST /api/v1/notifications,
 * /notifications/bulk and /announcements, collecting every field error. */
#ifndef HERALD_NOTIFICATION_INPUT_H
#define HERALD_NOTIFICATION_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "core/errors.h"
#include "notifications/notify.h"

/* Reads category (required unless default_category is set), priority (default normal),
 * channels, template, data, title, body, action_url, send_at (in the future, at most a year
 * ahead of now) and push (channels/push_options.h: data is then checked as FCM's data
 * payload too) from body into req. Strings and objects are borrowed from body. */
void h_notify_parse_common(const json_t *body, const char *default_category, time_t now,
                           struct h_notify_request *req, struct h_field_errors *fe);

/* RFC 3339 ("2027-01-31T12:00:00Z", fractions and offsets allowed) to unix seconds.
 * False when malformed. Pure. */
bool h_rfc3339_parse(const char *s, time_t *out);

/* A category name: 1-64 of [A-Za-z0-9_.:-]. Pure. */
bool h_category_valid(const char *s);

/* A priority: low, normal, high or critical. Pure. */
bool h_priority_valid(const char *s);

#endif

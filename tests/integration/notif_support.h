/* notif_support.h - helpers shared by the notification integration tests: users with a
 * phone and devices, authenticated calls, and assertions on PostgreSQL rows and Redis ids. */
#ifndef HERALD_TEST_NOTIF_SUPPORT_H
#define HERALD_TEST_NOTIF_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "harness.h"

/* Sends a request as token (may be NULL); extra is one more header or NULL. */
void ns_call(const struct th_server *s, const char *token, const char *method, const char *path,
             const char *body, const char *extra, struct th_response *r);

/* A new user (unique e-mail with prefix); phone (may be NULL) is set through the API.
 * Returns its access token (caller frees); id receives its id. */
char *ns_user(const struct th_server *s, const char *prefix, const char *phone, char id[37]);

/* Registers a push device for token's user. */
void ns_device(const struct th_server *s, const char *token, const char *device_token);

/* Sends POST /api/v1/notifications as admin_token with body (printf format); fails the
 * test unless 202; returns the response body (caller json_decref()s). */
json_t *ns_send(const struct th_server *s, const char *admin_token, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The delivery of channel inside a notification response (borrowed), or NULL. */
const json_t *ns_delivery(const json_t *notification, const char *channel);

/* The first column of the first row of sql (one text parameter, may be NULL) as a new
 * string the caller frees, or NULL when there is no row or the value is NULL. */
char *ns_sql_text(const char *sql, const char *param);
long ns_sql_long(const char *sql, const char *param);

/* Redis, through HERALD_REDIS_URL: is id on list key; id's score in sorted set key (-1
 * when absent). */
bool ns_list_has(const char *key, const char *id);
double ns_zscore(const char *key, const char *id);

/* Polls until the list has id or timeout_s passes. */
bool ns_wait_list_has(const char *key, const char *id, int timeout_s);

/* Unix time of an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ". */
long ns_epoch(const char *ts);

#endif

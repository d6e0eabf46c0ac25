/* topic_repo.h - SQL for topics and users' subscriptions to them (announcements reach a
 * topic's subscribers: broadcast_repo.c). Topics come back as {"key","object":"topic",
 * "name","description","created_at"} (+ "subscribed_at" in a user's list); json_t **
 * out-parameters are new references. */
#ifndef HERALD_TOPIC_REPO_H
#define HERALD_TOPIC_REPO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/result.h"

/* Inserts a topic; H_ERR_CONFLICT when the key is taken. */
h_result h_topic_repo_insert(PGconn *conn, const char *key, const char *name,
                             const char *description, json_t **out);

/* Every topic by key (array), at most 1,000. */
h_result h_topic_repo_list(PGconn *conn, json_t **out);

/* The topics user_id subscribes to, by key (array). */
h_result h_topic_repo_list_mine(PGconn *conn, const char *user_id, json_t **out);

/* Subscribes user_id to key (again: no change) and returns the topic with subscribed_at;
 * H_ERR_NOT_FOUND when there is no such topic. */
h_result h_topic_repo_subscribe(PGconn *conn, const char *user_id, const char *key,
                                json_t **out);

/* Ends user_id's subscription to key; H_ERR_NOT_FOUND when there is none. */
h_result h_topic_repo_unsubscribe(PGconn *conn, const char *user_id, const char *key);

#endif

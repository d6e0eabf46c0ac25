/* topic_service.h - topics users subscribe to, which announcements can target: admins (or
 * API keys) create them, every user lists them and manages their own subscriptions. json_t
 * ** out-parameters are new references. */
#ifndef HERALD_TOPIC_SERVICE_H
#define HERALD_TOPIC_SERVICE_H

#include <jansson.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

/* Creates a topic (audited); H_ERR_CONFLICT when the key is taken. */
h_result h_topic_create(struct h_app *app, const struct h_actor *actor, const char *key,
                        const char *name, const char *description, json_t **topic);
/* Every topic (array). */
h_result h_topic_list(struct h_app *app, json_t **topics);
/* The actor's subscriptions (array). */
h_result h_topic_list_mine(struct h_app *app, const char *user_id, json_t **topics);
/* Subscribes (or unsubscribes: subscribe false) the actor to key; H_ERR_NOT_FOUND when the
 * topic, or the subscription to end, does not exist. *topic (subscribe only) the topic. */
h_result h_topic_subscribe(struct h_app *app, const struct h_actor *actor, const char *key,
                           bool subscribe, json_t **topic);

#endif

/* topics.c - GET/POST /api/v1/topics, GET /api/v1/users/me/topics and PUT/DELETE
 * /api/v1/users/me/topics/{key}: the topics announcements can target and the user's own
 * subscriptions. */
#include <string.h>

#include "core/fields.h"
#include "notifications/notifications.h"
#include "templates/template.h"
#include "topics/topic_service.h"
#include "http/request.h"

static void reply_list(struct h_req *rq, h_result r, json_t *data) {
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, false));
  } else {
    h_reply_error(rq, r, NULL, "The request could not be completed; try again later.", NULL);
  }
}

void h_topics_get(struct h_req *rq) {
  json_t *data = NULL;
  h_result r = h_topic_list(rq->app, &data);
  reply_list(rq, r, data);
}

void h_my_topics_get(struct h_req *rq) {
  json_t *data = NULL;
  h_result r = h_topic_list_mine(rq->app, rq->user_id, &data);
  reply_list(rq, r, data);
}

void h_topics_post(struct h_req *rq) {
  static const char *const allowed[] = {"key", "name", "description", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *key = h_field_string(rq->body, "key", true, 64, &fe);
  if (key != NULL && !h_template_key_valid(key)) {
    h_field_error(&fe, "key", "invalid_key", "Must be 1-64 of a-z 0-9 _ . - (a letter or digit first).");
  }
  const char *name = h_field_string(rq->body, "name", true, 200, &fe);
  if (name != NULL && name[0] == '\0') {
    h_field_error(&fe, "name", "too_short", "Must not be empty.");
  }
  const char *description = h_field_string(rq->body, "description", false, 1000, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *topic = NULL;
  h_result r = h_topic_create(rq->app, &actor, key, name, description, &topic);
  if (r == H_OK) {
    h_reply_json(rq, 201, topic);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "topic_exists", "A topic with this key exists.", "key");
  } else {
    h_reply_error(rq, r, NULL, "The request could not be completed; try again later.", NULL);
  }
}

/* PUT (subscribe) or DELETE (unsubscribe) /api/v1/users/me/topics/{key}. */
static void subscription(struct h_req *rq, bool subscribe) {
  const char *key = h_req_param(rq, "key");
  if (key == NULL || !h_template_key_valid(key)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such topic.", NULL);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *topic = NULL;
  h_result r = h_topic_subscribe(rq->app, &actor, key, subscribe, &topic);
  if (r == H_OK && subscribe) {
    h_reply_json(rq, 200, topic);
  } else if (r == H_OK) {
    h_reply_no_content(rq);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", subscribe ? "No such topic." : "Not subscribed to it.",
                  NULL);
  } else {
    h_reply_error(rq, r, NULL, "The request could not be completed; try again later.", NULL);
  }
}

void h_my_topic_put(struct h_req *rq) { subscription(rq, true); }
void h_my_topic_delete(struct h_req *rq) { subscription(rq, false); }

/* topic_service.c - topic and subscription transactions. */
#include "topics/topic_service.h"

#include "store/db.h"
#include "topics/topic_repo.h"

struct op {
  const struct h_actor *actor;
  const char *key, *name, *description, *user_id;
  bool subscribe;
  json_t *out;
};

static h_result create_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_topic_repo_insert(c, o->key, o->name, o->description, &o->out);
  return r == H_OK ? h_audit_write(c, o->actor, "topic.created", "topic", o->key, NULL, false)
                   : r;
}

h_result h_topic_create(struct h_app *app, const struct h_actor *actor, const char *key,
                        const char *name, const char *description, json_t **topic) {
  struct op o = {.actor = actor, .key = key, .name = name, .description = description};
  return h_db_tx_json(app->db, create_tx, &o, &o.out, topic);
}

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return o->user_id != NULL ? h_topic_repo_list_mine(c, o->user_id, &o->out)
                            : h_topic_repo_list(c, &o->out);
}

h_result h_topic_list(struct h_app *app, json_t **topics) {
  struct op o = {0};
  return h_db_run_json(app->db, list_tx, &o, &o.out, topics);
}

h_result h_topic_list_mine(struct h_app *app, const char *user_id, json_t **topics) {
  struct op o = {.user_id = user_id};
  return h_db_run_json(app->db, list_tx, &o, &o.out, topics);
}

static h_result subscribe_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = o->subscribe ? h_topic_repo_subscribe(c, o->actor->id, o->key, &o->out)
                            : h_topic_repo_unsubscribe(c, o->actor->id, o->key);
  return r == H_OK ? h_audit_write(c, o->actor, o->subscribe ? "topic.subscribed"
                                                             : "topic.unsubscribed",
                                   "topic", o->key, NULL, false)
                   : r;
}

h_result h_topic_subscribe(struct h_app *app, const struct h_actor *actor, const char *key,
                           bool subscribe, json_t **topic) {
  struct op o = {.actor = actor, .key = key, .subscribe = subscribe};
  if (subscribe) {
    return h_db_tx_json(app->db, subscribe_tx, &o, &o.out, topic);
  }
  return h_db_tx(app->db, subscribe_tx, &o);
}

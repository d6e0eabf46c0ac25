/* device_service.c - device registration rules and transactions. A push token registered
 * by another account moves to it (the app was signed in there); the move is audited as a
 * security event and the previous owner is told by e-mail. */
#include "notifications/device_service.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "notifications/outbox.h"
#include "store/db.h"

struct op {
  const struct h_actor *actor;
  const struct h_device_input *in;
  const struct h_idem *idem;
  const struct h_page *page;
  const char *id;
  json_t *out;
  bool flag;
  char notice[37]; /* the e-mail telling the previous owner, "" when none */
};

/* Tells previous (borrowed) by e-mail, in c's transaction, that another account registered
 * its device; o->notice receives the delivery to push after COMMIT. */
static h_result tell_previous_owner(PGconn *c, struct op *o, const char *previous) {
  char *body = h_sprintf("The %s device you received notifications on was registered by another"
                         " account and now receives that account's notifications. If this was"
                         " not you signing in on it, sign in and review your devices.",
                         o->in->platform);
  h_result r = h_outbox_email(c, previous, "account", "device_moved",
                              "Your device was moved to another account", body, NULL, o->notice);
  free(body);
  return r;
}

static h_result register_tx(PGconn *c, void *a) {
  struct op *o = a;
  char previous[37];
  h_result r = h_device_repo_upsert(c, o->actor->id, o->in->token, o->in->platform,
                                    o->in->app_version, &o->out, &o->flag, previous);
  if (r != H_OK) {
    return r;
  }
  bool moved = previous[0] != '\0' && strcmp(previous, o->actor->id) != 0;
  json_t *d = json_pack("{sssb}", "platform", o->in->platform, "moved", moved);
  if (moved) {
    json_object_set_new(d, "previous_user_id", json_string(previous));
  }
  r = h_audit_write(c, o->actor, moved ? "device.moved" : "device.registered", "device",
                    json_string_value(json_object_get(o->out, "id")), d, moved);
  json_decref(d);
  if (r == H_OK && moved) {
    r = tell_previous_owner(c, o, previous);
  }
  return r == H_OK ? h_idem_complete(c, o->idem, o->flag ? H_OUTCOME_CREATED : H_OUTCOME_OK, o->out) : r;
}

h_result h_device_register(struct h_app *app, const struct h_actor *actor,
                           const struct h_device_input *in, const struct h_idem *idem,
                           json_t **device, bool *created) {
  struct op o = {.actor = actor, .in = in, .idem = idem};
  h_result r = h_db_tx_json(app->db, register_tx, &o, &o.out, device);
  *created = o.flag;
  if (r == H_OK && o.notice[0] != '\0') {
    const char *ids[] = {o.notice};
    h_outbox_push(app, H_QUEUE_EMAIL, ids, 1, actor->request_id);
  }
  return r;
}

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_device_repo_list(c, o->id, o->page, &o->out, &o->flag);
}

h_result h_device_list(struct h_app *app, const char *user_id, const struct h_page *page,
                       json_t **data, bool *has_more) {
  struct op o = {.id = user_id, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.flag;
  return r;
}

static h_result remove_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_device_repo_delete(c, o->id, o->actor->id);
  return r == H_OK ? h_audit_write(c, o->actor, "device.deleted", "device", o->id, NULL, false)
                   : r;
}

h_result h_device_remove(struct h_app *app, const struct h_actor *actor, const char *id) {
  struct op o = {.actor = actor, .id = id};
  return h_db_tx(app->db, remove_tx, &o);
}

/* preference_service.c - preferences in one transaction with their audit row. */
#include "notifications/preference_service.h"

#include "store/db.h"

struct op {
  const struct h_actor *actor;
  const char *user_id;
  const struct h_prefs_input *in;
  json_t *out;
};

static h_result read_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_prefs_repo_get(c, o->user_id, &o->out);
}

h_result h_preferences_read(struct h_app *app, const char *user_id, json_t **prefs) {
  struct op o = {.user_id = user_id};
  h_result r = h_db_run(app->db, read_tx, &o);
  *prefs = o.out;
  return r;
}

static h_result write_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_prefs_repo_put(c, o->actor->id, o->in);
  if (r == H_OK) {
    r = h_prefs_repo_get(c, o->actor->id, &o->out);
  }
  if (r == H_OK) {
    r = h_audit_write(c, o->actor, "preferences.updated", "user", o->actor->id, o->out, false);
  }
  return r;
}

h_result h_preferences_write(struct h_app *app, const struct h_actor *actor,
                             const struct h_prefs_input *in, json_t **prefs) {
  struct op o = {.actor = actor, .in = in};
  return h_db_tx_json(app->db, write_tx, &o, &o.out, prefs);
}

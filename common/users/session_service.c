/* session_service.c - listing and ending a user's sessions. */
#include "users/session_service.h"

#include "store/db.h"
#include "users/token_epoch.h"
#include "users/token_repo.h"
#include "users/user_repo.h"

struct op {
  const struct h_actor *actor;
  const char *user_id, *id, *current;
  json_t *data;
  bool has_more;
};

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_session_repo_list(c, o->user_id, o->current, H_SESSIONS_MAX, &o->data, &o->has_more);
}

h_result h_session_list(struct h_app *app, const char *user_id, const char *current,
                        json_t **data, bool *has_more) {
  struct op o = {.user_id = user_id, .current = current};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = r == H_OK ? o.data : NULL;
  *has_more = o.has_more;
  if (r != H_OK) {
    json_decref(o.data);
  }
  return r;
}

static h_result revoke_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = o->id != NULL ? h_session_repo_revoke(c, o->user_id, o->id)
                             : h_refresh_revoke_user(c, o->user_id);
  if (r == H_OK) {
    r = h_user_repo_bump_epoch(c, o->user_id, NULL);
  }
  if (r == H_OK) {
    json_t *d = o->id != NULL ? json_pack("{ss}", "session_id", o->id) : NULL;
    r = h_audit_write(c, o->actor, o->id != NULL ? "auth.session_revoked" : "auth.sessions_revoked",
                      "user", o->user_id, d, true);
    json_decref(d);
  }
  return r;
}

h_result h_session_revoke(struct h_app *app, const struct h_actor *actor, const char *user_id,
                          const char *id) {
  struct op o = {.actor = actor, .user_id = user_id, .id = id};
  h_result r = h_db_tx(app->db, revoke_tx, &o);
  if (r == H_OK) {
    h_token_epoch_forget(app, user_id);
  }
  return r;
}

h_result h_session_revoke_all(struct h_app *app, const struct h_actor *actor,
                              const char *user_id) {
  struct op o = {.actor = actor, .user_id = user_id};
  h_result r = h_db_tx(app->db, revoke_tx, &o);
  if (r == H_OK) {
    h_token_epoch_forget(app, user_id);
  }
  return r;
}

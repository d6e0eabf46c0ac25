/* unsubscribe_service.c - one-click unsubscribe in one transaction with its audit row. */
#include "notifications/unsubscribe_service.h"

#include "store/db.h"
#include "notifications/unsubscribe_repo.h"

struct op {
  const struct h_actor *actor;
  const char *user_id, *category;
};

static h_result unsubscribe_tx(PGconn *conn, void *arg) {
  struct op *o = arg;
  h_result r = h_unsubscribe_repo_email_off(conn, o->user_id, o->category);
  if (r == H_OK) {
    json_t *details = json_pack("{sssssb}", "category", o->category, "channel", "email",
                                "enabled", 0);
    r = h_audit_write(conn, o->actor, "preferences.unsubscribed", "user", o->user_id, details,
                      false);
    json_decref(details);
  }
  return r;
}

h_result h_unsubscribe_email(struct h_app *app, const struct h_actor *actor, const char *user_id,
                             const char *category) {
  struct op o = {actor, user_id, category};
  return h_db_tx(app->db, unsubscribe_tx, &o);
}

/* unsubscribe_service.c - one-click unsubscribe in one transaction with its audit row. */
#include "unsubscribe_service.h"

#include "db.h"

struct op {
  const struct h_actor *actor;
  const char *user_id, *category;
};

/* Merges {"<category>":{"email":false}} into the user's category settings; 0 rows when the
 * user does not exist or is deleted. */
static h_result repo_unsubscribe(PGconn *conn, const char *user_id, const char *category) {
  const char *params[] = {user_id, category};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "INSERT INTO notification_preferences AS p (user_id, channels, categories)"
      " SELECT u.id, '{}', jsonb_build_object($2::text, jsonb_build_object('email', false))"
      " FROM users u WHERE u.id = $1::uuid AND u.status <> 'deleted'"
      " ON CONFLICT (user_id) DO UPDATE SET categories = p.categories ||"
      "   jsonb_build_object($2::text, COALESCE(p.categories -> $2::text, '{}'::jsonb) ||"
      "                                jsonb_build_object('email', false)),"
      "   updated_at = now()"
      " RETURNING p.user_id",
      2, params, &res);
  if (r == H_OK && PQntuples(res) == 0) {
    r = H_ERR_NOT_FOUND;
  }
  PQclear(res);
  return r;
}

static h_result unsubscribe_tx(PGconn *conn, void *arg) {
  struct op *o = arg;
  h_result r = repo_unsubscribe(conn, o->user_id, o->category);
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

/* unsubscribe_repo.c - SQL of one-click unsubscribe (one statement, atomic merge). */
#include "notifications/unsubscribe_repo.h"

#include "store/db.h"

h_result h_unsubscribe_repo_email_off(PGconn *conn, const char *user_id, const char *category) {
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

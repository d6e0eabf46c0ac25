/* user_repo.c - SQL for the users table. */
#include "user_repo.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

h_result h_user_repo_upsert_admin(PGconn *conn, const char *email, const char *password_hash,
                                  char id[37], bool *created) {
  static const char *sql =
      "INSERT INTO users (email, password_hash, role, name, email_verified_at)"
      " VALUES ($1, $2, 'admin', 'Administrator', now())"
      " ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
      "   role = 'admin', status = 'active', updated_at = now()"
      " RETURNING id, (xmax = 0) AS created";
  const char *params[] = {email, password_hash};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, 2, params, &res);
  if (r != H_OK) {
    return r;
  }
  snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
  *created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
  PQclear(res);
  return H_OK;
}

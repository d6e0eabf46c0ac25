/* user_repo.c - SQL for the users table. */
#include "users/user_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"

#define USER_COLUMNS                                                                     \
  "id, 'user' AS object, email, name, phone, timezone, locale, role, status,"            \
  " (email_verified_at IS NOT NULL) AS email_verified, " H_SQL_TS("created_at")          \
  " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

h_result h_user_repo_insert(PGconn *conn, const struct h_user_input *in, json_t **user) {
  const char *params[] = {in->email, in->password_hash, in->name, in->phone,
                          in->timezone ? in->timezone : "UTC", in->locale ? in->locale : "en"};
  return h_db_one(conn,
                  "INSERT INTO users (email, password_hash, name, phone, timezone, locale)"
                  " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " USER_COLUMNS,
                  6, params, user);
}

h_result h_user_repo_login_row(PGconn *conn, const char *email, struct h_login_row *out) {
  memset(out, 0, sizeof(*out));
  const char *params[] = {email};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "SELECT id, role, status, password_hash,"
                             " GREATEST(0, ceil(extract(epoch FROM locked_until - now())))::int,"
                             " token_epoch FROM users WHERE lower(email) = lower($1) AND status <> 'deleted'",
                             1, params, &res);
  if (r != H_OK) {
    return r;
  }
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 1));
  snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 2));
  out->password_hash = h_strdup(PQgetvalue(res, 0, 3));
  out->locked_for_s = PQgetisnull(res, 0, 4) ? 0 : atoi(PQgetvalue(res, 0, 4));
  out->token_epoch = atol(PQgetvalue(res, 0, 5));
  PQclear(res);
  return H_OK;
}

h_result h_user_repo_login_failed(PGconn *conn, const char *id, int threshold, int window_s,
                                  int duration_s, struct h_login_failure *out) {
  char th[16], win[16], dur[16];
  snprintf(th, sizeof(th), "%d", threshold);
  snprintf(win, sizeof(win), "%d", window_s);
  snprintf(dur, sizeof(dur), "%d", duration_s);
  const char *params[] = {id, th, win, dur};
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  /* The row is locked and read at its latest version (FOR UPDATE), so concurrent failures
   * count one after another. Failures older than the window start a new count; reaching
   * the threshold locks; a failure while another one has locked the account only reports
   * the lock. */
  h_result r = h_db_exec(
      conn,
      "WITH c AS (SELECT COALESCE(locked_until > now(), false) AS locked,"
      "   GREATEST(0, ceil(extract(epoch FROM locked_until - now())))::int AS left_s,"
      "   CASE WHEN first_failed_at > now() - make_interval(secs => $3::int)"
      "   THEN failed_logins + 1 ELSE 1 END AS n,"
      "   CASE WHEN first_failed_at > now() - make_interval(secs => $3::int)"
      "   THEN first_failed_at ELSE now() END AS since FROM users WHERE id = $1::uuid"
      "   FOR UPDATE)"
      " UPDATE users u SET"
      "   failed_logins = CASE WHEN c.locked THEN u.failed_logins"
      "     WHEN c.n >= $2::int THEN 0 ELSE c.n END,"
      "   first_failed_at = CASE WHEN c.locked THEN u.first_failed_at"
      "     WHEN c.n >= $2::int THEN NULL ELSE c.since END,"
      "   locked_until = CASE WHEN c.locked THEN u.locked_until WHEN c.n >= $2::int"
      "     THEN now() + make_interval(secs => $4::int) ELSE u.locked_until END"
      " FROM c WHERE u.id = $1::uuid"
      " RETURNING c.locked, NOT c.locked AND c.n >= $2::int, COALESCE(c.left_s, 0)",
      4, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    out->was_locked = PQgetvalue(res, 0, 0)[0] == 't';
    out->locked_now = PQgetvalue(res, 0, 1)[0] == 't';
    out->locked_for_s = atoi(PQgetvalue(res, 0, 2));
  }
  PQclear(res);
  return H_OK;
}

h_result h_user_repo_login_succeeded(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn,
                   "UPDATE users SET failed_logins = 0, first_failed_at = NULL,"
                   " locked_until = NULL WHERE id = $1::uuid AND failed_logins > 0",
                   1, params, NULL);
}

h_result h_user_repo_get(PGconn *conn, const char *id, json_t **user) {
  const char *params[] = {id};
  return h_db_one_generic(conn,
                          "SELECT " USER_COLUMNS " FROM users"
                          " WHERE id = $1::uuid AND status <> 'deleted'",
                          1, params, user);
}

h_result h_user_repo_update_profile(PGconn *conn, const char *id, const struct h_profile_patch *p,
                                    json_t **user) {
  const char *params[] = {id, p->name, p->clear_name ? "t" : "f", p->phone,
                          p->clear_phone ? "t" : "f", p->timezone, p->locale};
  return h_db_one(conn,
                  "UPDATE users SET"
                  " name = CASE WHEN $3::bool THEN NULL ELSE COALESCE($2, name) END,"
                  " phone = CASE WHEN $5::bool THEN NULL ELSE COALESCE($4, phone) END,"
                  " timezone = COALESCE($6, timezone), locale = COALESCE($7, locale),"
                  " updated_at = now()"
                  " WHERE id = $1::uuid AND status <> 'deleted' RETURNING " USER_COLUMNS,
                  7, params, user);
}

h_result h_user_repo_password_hash(PGconn *conn, const char *id, char **hash) {
  const char *params[] = {id};
  PGresult *res = NULL;
  *hash = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT password_hash FROM users WHERE id = $1::uuid"
                         " AND status = 'active'",
                         1, params, &res);
  if (r == H_OK) {
    if (PQntuples(res) == 1) {
      *hash = h_strdup(PQgetvalue(res, 0, 0));
    } else {
      r = H_ERR_NOT_FOUND;
    }
    PQclear(res);
  }
  return r;
}

/* Runs an UPDATE expected to touch exactly one live user. */
static h_result update_one(PGconn *conn, const char *sql, int n, const char *const *params) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_user_repo_rehash(PGconn *conn, const char *id, const char *old_hash,
                            const char *new_hash) {
  const char *params[] = {id, old_hash, new_hash};
  return h_db_exec(conn,
                   "UPDATE users SET password_hash = $3 WHERE id = $1::uuid"
                   " AND password_hash = $2",
                   3, params, NULL);
}

h_result h_user_repo_set_password(PGconn *conn, const char *id, const char *hash) {
  const char *params[] = {id, hash};
  return update_one(conn,
                    "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL,"
                    " updated_at = now() WHERE id = $1::uuid AND status <> 'deleted'",
                    2, params);
}

h_result h_user_repo_mark_verified(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return update_one(conn,
                    "UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()),"
                    " updated_at = now() WHERE id = $1::uuid AND status <> 'deleted'",
                    1, params);
}

h_result h_user_repo_anonymize(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return update_one(conn,
                    "UPDATE users SET email = 'deleted-' || id || '@deleted.invalid',"
                    " name = NULL, phone = NULL, password_hash = '!', status = 'deleted',"
                    " email_verified_at = NULL, timezone = 'UTC', locale = 'en', failed_logins = 0,"
                    " first_failed_at = NULL, locked_until = NULL, updated_at = now()"
                    " WHERE id = $1::uuid AND status <> 'deleted'",
                    1, params);
}

h_result h_user_repo_list(PGconn *conn, const char *email_prefix, const char *role,
                          const char *status, const struct h_page *page, json_t **data,
                          bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {email_prefix, role, status, page->starting_after, limit};
  return h_db_page(
      conn,
      "SELECT " USER_COLUMNS " FROM users"
      " WHERE ($1::text IS NULL OR lower(email) LIKE"
      "        replace(replace(replace(lower($1), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
      "   AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR status = $3)"
      "   AND ($4::uuid IS NULL OR (created_at, id) <"
      "        (SELECT created_at, id FROM users WHERE id = $4::uuid))"
      " ORDER BY users.created_at DESC, users.id DESC LIMIT $5::int",
      5, params, page->limit, data, has_more);
}

h_result h_user_repo_admin_update(PGconn *conn, const char *id, const char *role,
                                  const char *status, json_t **user) {
  const char *params[] = {id, role, status};
  return h_db_one(conn,
                  "UPDATE users SET role = COALESCE($2, role), status = COALESCE($3, status),"
                  " updated_at = now() WHERE id = $1::uuid AND status <> 'deleted'"
                  " RETURNING " USER_COLUMNS,
                  3, params, user);
}

h_result h_user_repo_lock_by_email(PGconn *conn, const char *email, char id[37], char role[16]) {
  const char *params[] = {email};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "SELECT id, role FROM users WHERE lower(email) = lower($1)"
                             " FOR UPDATE",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
    snprintf(role, 16, "%s", PQgetvalue(res, 0, 1));
  }
  PQclear(res);
  return r;
}

h_result h_user_repo_insert_admin(PGconn *conn, const char *email, const char *password_hash,
                                  char id[37]) {
  const char *params[] = {email, password_hash};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "INSERT INTO users (email, password_hash, role, name, email_verified_at)"
                         " VALUES ($1, $2, 'admin', 'Administrator', now()) RETURNING id",
                         2, params, &res);
  if (r == H_OK) {
    snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  return r;
}

h_result h_user_repo_make_admin(PGconn *conn, const char *id, const char *password_hash) {
  const char *params[] = {id, password_hash};
  return h_db_exec(conn,
                   "UPDATE users SET password_hash = $2, role = 'admin', status = 'active',"
                   " email_verified_at = COALESCE(email_verified_at, now()), updated_at = now()"
                   " WHERE id = $1::uuid",
                   2, params, NULL);
}

/* Runs sql (one parameter: id) returning at most one integer into *out; missing (no
 * row) when it returns none. out may be NULL. */
static h_result one_long(PGconn *conn, const char *sql, const char *id, long missing,
                         long *out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, 1, params, &res);
  if (r == H_OK) {
    if (out != NULL) {
      *out = PQntuples(res) == 1 ? atol(PQgetvalue(res, 0, 0)) : missing;
    }
    PQclear(res);
  }
  return r;
}

h_result h_user_repo_token_epoch(PGconn *conn, const char *id, long *epoch) {
  return one_long(conn,
                  "SELECT CASE WHEN status = 'active' THEN token_epoch ELSE -1 END"
                  " FROM users WHERE id = $1::uuid",
                  id, -1, epoch);
}

h_result h_user_repo_bump_epoch(PGconn *conn, const char *id, long *epoch) {
  return one_long(conn,
                  "UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1::uuid"
                  " RETURNING token_epoch",
                  id, 0, epoch);
}

h_result h_user_repo_grant_row(PGconn *conn, const char *id, char role[16], long *epoch) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "SELECT role, token_epoch FROM users WHERE id = $1::uuid"
                             " AND status = 'active'",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(role, 16, "%s", PQgetvalue(res, 0, 0));
    *epoch = atol(PQgetvalue(res, 0, 1));
  }
  PQclear(res);
  return r;
}

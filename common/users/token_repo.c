/* token_repo.c - SQL for tokens and API keys. */
#include "users/token_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

h_result h_refresh_insert(PGconn *conn, const char *user_id, const char *family_id,
                          const char *token_hash, int ttl_s, const char *ip,
                          const char *user_agent, bool mfa) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *params[] = {user_id, family_id, token_hash, ttl, ip, user_agent, mfa ? "t" : "f"};
  return h_db_exec(conn,
                   "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, ip,"
                   " user_agent, mfa) VALUES ($1::uuid, $2::uuid, $3,"
                   " now() + make_interval(secs => $4::int), $5, left($6, 512), $7::bool)",
                   7, params, NULL);
}

h_result h_refresh_lock(PGconn *conn, const char *token_hash, struct h_refresh_row *out) {
  memset(out, 0, sizeof(*out));
  const char *params[] = {token_hash};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "SELECT t.id, t.user_id, t.family_id, u.role, u.status,"
                             " t.used_at IS NOT NULL, t.revoked_at IS NOT NULL, t.expires_at <= now(),"
                             " u.token_epoch, t.mfa"
                             " FROM refresh_tokens t JOIN users u ON u.id = t.user_id"
                             " WHERE t.token_hash = $1 FOR UPDATE OF t",
                             1, params, &res);
  if (r != H_OK) {
    return r;
  }
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(out->user_id, sizeof(out->user_id), "%s", PQgetvalue(res, 0, 1));
  snprintf(out->family_id, sizeof(out->family_id), "%s", PQgetvalue(res, 0, 2));
  snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(res, 0, 3));
  snprintf(out->user_status, sizeof(out->user_status), "%s", PQgetvalue(res, 0, 4));
  out->used = PQgetvalue(res, 0, 5)[0] == 't';
  out->revoked = PQgetvalue(res, 0, 6)[0] == 't';
  out->expired = PQgetvalue(res, 0, 7)[0] == 't';
  out->token_epoch = atol(PQgetvalue(res, 0, 8));
  out->mfa = PQgetvalue(res, 0, 9)[0] == 't';
  PQclear(res);
  return H_OK;
}

h_result h_refresh_mark_used(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn, "UPDATE refresh_tokens SET used_at = now() WHERE id = $1::uuid", 1,
                   params, NULL);
}

h_result h_refresh_revoke_family(PGconn *conn, const char *family_id) {
  const char *params[] = {family_id};
  return h_db_exec(conn,
                   "UPDATE refresh_tokens SET revoked_at = now()"
                   " WHERE family_id = $1::uuid AND revoked_at IS NULL",
                   1, params, NULL);
}

h_result h_refresh_revoke_user(PGconn *conn, const char *user_id) {
  const char *params[] = {user_id};
  return h_db_exec(conn,
                   "UPDATE refresh_tokens SET revoked_at = now()"
                   " WHERE user_id = $1::uuid AND revoked_at IS NULL",
                   1, params, NULL);
}

h_result h_session_repo_list(PGconn *conn, const char *user_id, const char *current, int limit,
                             json_t **data, bool *has_more) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit + 1);
  const char *params[] = {user_id, current != NULL && current[0] != '\0' ? current : NULL, lim};
  /* A family's live head (unused, unrevoked, unexpired) is the session; its first row
   * says when it began. */
  return h_db_page(conn,
                   "SELECT h.family_id AS id, 'session' AS object, h.user_agent, h.ip,"
                   " " H_SQL_TS("f.created_at") " AS created_at,"
                   " " H_SQL_TS("h.created_at") " AS last_used_at,"
                   " " H_SQL_TS("h.expires_at") " AS expires_at,"
                   " COALESCE(h.family_id = $2::uuid, false) AS current"
                   " FROM refresh_tokens h JOIN LATERAL (SELECT min(created_at) AS created_at"
                   "   FROM refresh_tokens WHERE family_id = h.family_id) f ON true"
                   " WHERE h.user_id = $1::uuid AND h.used_at IS NULL AND h.revoked_at IS NULL"
                   " AND h.expires_at > now()"
                   " ORDER BY h.created_at DESC, h.family_id DESC LIMIT $3::int",
                   3, params, limit, data, has_more);
}

h_result h_session_repo_revoke(PGconn *conn, const char *user_id, const char *family_id) {
  const char *params[] = {user_id, family_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1::uuid"
                         " AND family_id = $2::uuid AND revoked_at IS NULL"
                         " AND EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2::uuid"
                         "   AND user_id = $1::uuid AND used_at IS NULL AND revoked_at IS NULL"
                         "   AND expires_at > now())",
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) > 0 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_ott_insert(PGconn *conn, const char *user_id, const char *kind,
                      const char *token_hash, int ttl_s) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *params[] = {user_id, kind, token_hash, ttl};
  return h_db_exec(conn,
                   "INSERT INTO one_time_tokens (user_id, kind, token_hash, expires_at)"
                   " VALUES ($1::uuid, $2, $3, now() + make_interval(secs => $4::int))",
                   4, params, NULL);
}

h_result h_ott_consume(PGconn *conn, const char *kind, const char *token_hash, char user_id[37]) {
  const char *params[] = {kind, token_hash};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE one_time_tokens SET used_at = now() WHERE kind = $1"
                         " AND token_hash = $2 AND used_at IS NULL AND expires_at > now()"
                         " RETURNING user_id",
                         2, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    snprintf(user_id, 37, "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  return r;
}

#define KEY_COLUMNS                                                                     \
  "id, 'api_key' AS object, name, prefix, created_by, " H_SQL_TS("created_at")          \
  " AS created_at, " H_SQL_TS("last_used_at") " AS last_used_at, " H_SQL_TS("revoked_at") \
  " AS revoked_at"

h_result h_api_key_insert(PGconn *conn, const char *name, const char *prefix,
                          const char *key_hash, const char *created_by, json_t **key) {
  const char *params[] = {name, prefix, key_hash, created_by};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "INSERT INTO api_keys (name, prefix, key_hash, created_by)"
                         " VALUES ($1, $2, $3, $4::uuid) RETURNING " KEY_COLUMNS,
                         4, params, &res);
  if (r == H_OK) {
    *key = h_db_row_json(res, 0);
    PQclear(res);
  }
  return r;
}

h_result h_api_key_list(PGconn *conn, const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " KEY_COLUMNS " FROM api_keys"
                         " WHERE ($1::uuid IS NULL OR (created_at, id) <"
                         "        (SELECT created_at, id FROM api_keys WHERE id = $1::uuid))"
                         " ORDER BY api_keys.created_at DESC, api_keys.id DESC LIMIT $2::int",
                         2, params, page->limit, data, has_more);
}

h_result h_api_key_revoke(PGconn *conn, const char *id) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE api_keys SET revoked_at = now() WHERE id = $1::uuid"
                         " AND revoked_at IS NULL",
                         1, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_api_key_touch(PGconn *conn, const char *key_hash, char id[37]) {
  const char *params[] = {key_hash};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1"
                             " AND revoked_at IS NULL RETURNING id",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  return r;
}

h_result h_ott_revoke_kind(PGconn *conn, const char *user_id, const char *kind) {
  const char *params[] = {user_id, kind};
  return h_db_exec(conn,
                   "UPDATE one_time_tokens SET used_at = now()"
                   " WHERE user_id = $1::uuid AND kind = $2 AND used_at IS NULL",
                   2, params, NULL);
}

/* totp_repo.c - SQL for TOTP secrets, recovery codes and sign-in challenges. */
#include "users/totp_repo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* Runs sql with params and reports how many rows it touched in *n. */
static h_result exec_count(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           int *n) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, nparams, params, &res);
  if (r == H_OK) {
    *n = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : atoi(PQcmdTuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_totp_repo_enabled(PGconn *conn, const char *user_id, bool *enabled) {
  const char *params[] = {user_id};
  int n = 0;
  h_result r = exec_count(conn,
                          "SELECT 1 FROM user_totp WHERE user_id = $1::uuid"
                          " AND confirmed_at IS NOT NULL",
                          1, params, &n);
  *enabled = r == H_OK && n == 1;
  return r;
}

h_result h_totp_repo_lock(PGconn *conn, const char *user_id, struct h_totp_row *out) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  h_result r = h_db_exec(conn,
                         "SELECT secret, confirmed_at IS NOT NULL, last_step FROM user_totp"
                         " WHERE user_id = $1::uuid FOR UPDATE",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    snprintf(out->secret, sizeof(out->secret), "%s", PQgetvalue(res, 0, 0));
    out->confirmed = PQgetvalue(res, 0, 1)[0] == 't';
    out->last_step = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
  } else {
    r = H_ERR_NOT_FOUND;
  }
  PQclear(res);
  return r;
}

h_result h_totp_repo_put_pending(PGconn *conn, const char *user_id, const char *secret) {
  const char *params[] = {user_id, secret};
  int n = 0;
  h_result r = exec_count(conn,
                          "INSERT INTO user_totp (user_id, secret) VALUES ($1::uuid, $2)"
                          " ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret,"
                          " last_step = 0, created_at = now()"
                          " WHERE user_totp.confirmed_at IS NULL",
                          2, params, &n);
  return r == H_OK && n == 0 ? H_ERR_CONFLICT : r;
}

h_result h_totp_repo_confirm(PGconn *conn, const char *user_id, uint64_t step) {
  char s[24];
  snprintf(s, sizeof(s), "%" PRIu64, step);
  const char *params[] = {user_id, s};
  return h_db_exec(conn,
                   "UPDATE user_totp SET confirmed_at = now(), last_step = $2::bigint"
                   " WHERE user_id = $1::uuid",
                   2, params, NULL);
}

h_result h_totp_repo_use_step(PGconn *conn, const char *user_id, uint64_t step) {
  char s[24];
  snprintf(s, sizeof(s), "%" PRIu64, step);
  const char *params[] = {user_id, s};
  int n = 0;
  h_result r = exec_count(conn,
                          "UPDATE user_totp SET last_step = $2::bigint WHERE user_id = $1::uuid"
                          " AND last_step < $2::bigint",
                          2, params, &n);
  return r == H_OK && n == 0 ? H_ERR_CONFLICT : r;
}

h_result h_totp_repo_delete(PGconn *conn, const char *user_id) {
  const char *params[] = {user_id};
  h_result r = h_db_exec(conn, "DELETE FROM user_totp WHERE user_id = $1::uuid", 1, params, NULL);
  if (r == H_OK) {
    r = h_db_exec(conn, "DELETE FROM mfa_recovery_codes WHERE user_id = $1::uuid", 1, params,
                  NULL);
  }
  return r;
}

h_result h_recovery_repo_replace(PGconn *conn, const char *user_id, char (*hashes)[65],
                                 size_t n) {
  const char *params[] = {user_id, NULL};
  h_result r = h_db_exec(conn, "DELETE FROM mfa_recovery_codes WHERE user_id = $1::uuid", 1,
                         params, NULL);
  for (size_t i = 0; r == H_OK && i < n; i++) {
    params[1] = hashes[i];
    r = h_db_exec(conn,
                  "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1::uuid, $2)", 2,
                  params, NULL);
  }
  return r;
}

h_result h_recovery_repo_use(PGconn *conn, const char *user_id, const char *hash, int *left) {
  const char *params[] = {user_id, hash};
  PGresult *res = NULL;
  *left = 0;
  h_result r = h_db_exec(conn,
                         "WITH used AS (UPDATE mfa_recovery_codes SET used_at = now()"
                         " WHERE id = (SELECT id FROM mfa_recovery_codes WHERE user_id = $1::uuid"
                         " AND code_hash = $2 AND used_at IS NULL LIMIT 1 FOR UPDATE)"
                         " RETURNING id)"
                         " SELECT (SELECT count(*) FROM used),"
                         " (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1::uuid"
                         " AND used_at IS NULL) - (SELECT count(*) FROM used)",
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQgetvalue(res, 0, 0)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    *left = atoi(PQgetvalue(res, 0, 1));
    PQclear(res);
  }
  return r;
}

h_result h_challenge_repo_insert(PGconn *conn, const char *user_id, const char *hash, int ttl_s,
                                 const char *ip, const char *user_agent) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *params[] = {user_id, hash, ttl, ip, user_agent};
  return h_db_exec(conn,
                   "INSERT INTO mfa_challenges (user_id, token_hash, expires_at, ip, user_agent)"
                   " VALUES ($1::uuid, $2, now() + make_interval(secs => $3::int), $4,"
                   " left($5, 512))",
                   5, params, NULL);
}

h_result h_challenge_repo_lock(PGconn *conn, const char *hash, struct h_challenge_row *out) {
  const char *params[] = {hash};
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  h_result r = h_db_exec(conn,
                         "SELECT id, user_id, attempts, used_at IS NULL AND expires_at > now()"
                         " FROM mfa_challenges WHERE token_hash = $1 FOR UPDATE",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->user_id, sizeof(out->user_id), "%s", PQgetvalue(res, 0, 1));
    out->attempts = atoi(PQgetvalue(res, 0, 2));
    out->live = PQgetvalue(res, 0, 3)[0] == 't';
  } else {
    r = H_ERR_NOT_FOUND;
  }
  PQclear(res);
  return r;
}

h_result h_challenge_repo_failed(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn, "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE id = $1::uuid",
                   1, params, NULL);
}

h_result h_challenge_repo_use(PGconn *conn, const char *id) {
  const char *params[] = {id};
  return h_db_exec(conn, "UPDATE mfa_challenges SET used_at = now() WHERE id = $1::uuid", 1,
                   params, NULL);
}

/* idempotency.c - Idempotency-Key records in PostgreSQL (idempotency.h). */
#include "store/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_text.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"

void h_idem_request_hash(const char *method, const char *path, const json_t *body,
                         char out[65]) {
  /* "METHOD path\n" and the body as json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS |
   * JSON_ENCODE_ANY) prints it, byte for byte (keys stored before stay valid), printed by
   * h_jt_value_sorted at a fraction of json_dumps's cost. */
  struct h_json_text w;
  h_jt_init(&w, 512);
  if (body != NULL) {
    h_jt_value_sorted(&w, body);
  }
  size_t m = strlen(method), p = strlen(path);
  char *text = h_malloc(m + p + 2 + w.len + 1);
  memcpy(text, method, m);
  text[m] = ' ';
  memcpy(text + m + 1, path, p);
  text[m + 1 + p] = '\n';
  memcpy(text + m + p + 2, w.s, w.len + 1);
  h_sha256_hex(text, m + p + 2 + w.len, out);
  free(text);
  h_jt_free(&w);
}

bool h_idem_key_valid(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  if (n == 0 || n > 255) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
      return false;
    }
  }
  return true;
}

/* Claims the key, or reads the row that holds it, in one statement. The SELECT sees the
 * snapshot taken before the INSERT, i.e. the row as another request left it. The claim is
 * committed asynchronously: losing it in a crash only lets a retry claim the key again
 * (nothing was done under it), and it saves a WAL flush per request. */
static const char claim_sql[] =
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),"
    " claim AS (INSERT INTO idempotency_keys (caller, key, request_hash, status)"
    "   VALUES ($1, $2, $3, 'in_flight')"
    "   ON CONFLICT (caller, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
    "     status = 'in_flight', response_status = NULL, response_body = NULL,"
    "     locked_at = now(), created_at = now(), completed_at = NULL"
    "   WHERE (idempotency_keys.status = 'in_flight'"
    "          AND idempotency_keys.locked_at < now() - make_interval(secs => $4::int))"
    "      OR idempotency_keys.created_at < now() - make_interval(secs => $5::int)"
    "   RETURNING 1)"
    " SELECT (SELECT count(*) FROM claim)::int AS claimed, k.request_hash, k.status,"
    "   k.response_status, k.response_body"
    " FROM async LEFT JOIN idempotency_keys k ON k.caller = $1 AND k.key = $2";

h_result h_idem_claim(struct h_db *db, const struct h_idem *idem, int lock_s, int ttl_s,
                      enum h_idem_state *state, unsigned int *status, char **body) {
  char lock[16], ttl[16];
  snprintf(lock, sizeof(lock), "%d", lock_s);
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *params[] = {idem->caller, idem->key, idem->hash, lock, ttl};
  PGconn *conn = NULL;
  PGresult *res = NULL;
  *body = NULL;
  h_result r = h_db_acquire(db, &conn);
  if (r == H_OK) {
    r = h_db_exec(conn, claim_sql, 5, params, &res);
  }
  h_db_release(db, conn);
  if (r != H_OK) {
    return r;
  }
  bool found = !PQgetisnull(res, 0, 1);
  if (atoi(PQgetvalue(res, 0, 0)) > 0) {
    *state = H_IDEM_CLAIMED;
  } else if (found && strcmp(PQgetvalue(res, 0, 1), idem->hash) != 0) {
    *state = H_IDEM_MISMATCH;
  } else if (found && strcmp(PQgetvalue(res, 0, 2), "completed") == 0) {
    *state = H_IDEM_REPLAY;
    *status = (unsigned int)atoi(PQgetvalue(res, 0, 3));
    *body = h_strdup(PQgetvalue(res, 0, 4));
  } else {
    *state = H_IDEM_IN_FLIGHT;
  }
  PQclear(res);
  return H_OK;
}

/* Marks the key completed with status and body (borrowed). */
static h_result complete(PGconn *conn, const struct h_idem *idem, unsigned int status,
                         const json_t *body) {
  char code[8];
  snprintf(code, sizeof(code), "%u", status);
  char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
  const char *params[] = {idem->caller, idem->key, code, text};
  h_result r = h_db_exec(conn,
                         "UPDATE idempotency_keys SET status = 'completed',"
                         " response_status = $3::int, response_body = $4, completed_at = now()"
                         " WHERE caller = $1 AND key = $2",
                         4, params, NULL);
  free(text);
  return r;
}

h_result h_idem_complete(PGconn *conn, const struct h_idem *idem, enum h_outcome outcome,
                         const json_t *body) {
  if (idem == NULL || !idem->active) {
    return H_OK;
  }
  return complete(conn, idem, idem->status[outcome], body);
}

h_result h_idem_complete_error(PGconn *conn, const struct h_idem *idem, h_result r,
                               const struct h_error *e) {
  if (idem == NULL || !idem->active) {
    return H_OK;
  }
  json_t *body = idem->error_body(r, e);
  h_result stored = complete(conn, idem, idem->status_of(r), body);
  json_decref(body);
  return stored;
}

void h_idem_abort(struct h_db *db, const struct h_idem *idem) {
  if (idem == NULL || !idem->active || idem->deferred) { /* deferred: nothing was claimed */
    return;
  }
  const char *params[] = {idem->caller, idem->key};
  PGconn *conn = NULL;
  if (h_db_acquire(db, &conn) == H_OK) {
    h_db_exec(conn,
              "DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2"
              " AND status = 'in_flight'",
              2, params, NULL);
  }
  h_db_release(db, conn);
}

h_result h_idem_purge(PGconn *conn, int ttl_s, long *deleted) {
  char ttl[16];
  snprintf(ttl, sizeof(ttl), "%d", ttl_s);
  const char *params[] = {ttl};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "DELETE FROM idempotency_keys"
                         " WHERE created_at < now() - make_interval(secs => $1::int)",
                         1, params, &res);
  if (r == H_OK) {
    if (deleted != NULL) {
      *deleted = atol(PQcmdTuples(res));
    }
    PQclear(res);
  }
  return r;
}

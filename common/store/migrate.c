/* migrate.c - ordered, locked, checksummed schema migrations. */
#include "store/migrate.h"

#include <string.h>

#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"

/* Arbitrary constant naming Herald's migration lock. */
#define MIGRATION_LOCK_KEY "7261960193"

static const char *create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version text PRIMARY KEY,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* Applies one file unless already recorded; *done set to 1 when applied now. */
static h_result apply_one(PGconn *conn, const struct herald_embedded *m, int *done) {
  char checksum[65];
  h_sha256_hex(m->data, m->len, checksum);
  const char *params[] = {m->name, checksum};
  PGresult *res = NULL;
  *done = 0;
  h_result r = h_db_exec(conn, "SELECT checksum FROM schema_migrations WHERE version = $1", 1,
                         params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    bool same = strcmp(PQgetvalue(res, 0, 0), checksum) == 0;
    PQclear(res);
    if (!same) {
      h_log_error("h_migrate: %s changed after it was applied (checksum differs)", m->name);
      return H_ERR_CONFLICT;
    }
    return H_OK;
  }
  PQclear(res);

  if ((r = h_db_begin(conn)) != H_OK) {
    return r;
  }
  /* The file is ours, compiled in: a multi-statement script without parameters. */
  PGresult *script = PQexec(conn, m->data);
  if (PQresultStatus(script) != PGRES_COMMAND_OK && PQresultStatus(script) != PGRES_TUPLES_OK) {
    h_log_error("h_migrate: %s failed: %s", m->name, PQerrorMessage(conn));
    r = h_db_map_error(conn, script);
    PQclear(script);
    h_db_rollback(conn);
    return r == H_OK ? H_ERR_INTERNAL : r;
  }
  PQclear(script);
  r = h_db_exec(conn, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", 2,
                params, NULL);
  if (r == H_OK) {
    r = h_db_commit(conn);
  }
  if (r != H_OK) {
    h_db_rollback(conn);
    return r;
  }
  h_log(H_LOG_INFO, "event", NULL, "migration %s applied", m->name);
  *done = 1;
  return H_OK;
}

h_result h_migrate(PGconn *conn, const struct herald_embedded *list, int *applied) {
  int count = 0;
  const char *lock[] = {MIGRATION_LOCK_KEY};
  h_result r = h_db_exec(conn, "SELECT pg_advisory_lock($1::bigint)", 1, lock, NULL);
  if (r != H_OK) {
    return r;
  }
  r = h_db_exec(conn, create_table, 0, NULL, NULL);
  for (const struct herald_embedded *m = list; r == H_OK && m->name != NULL; m++) {
    int done = 0;
    r = apply_one(conn, m, &done);
    count += done;
  }
  h_db_exec(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, lock, NULL);
  if (applied != NULL) {
    *applied = count;
  }
  return r;
}

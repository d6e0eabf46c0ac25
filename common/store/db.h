/* db.h - PostgreSQL over libpq: a pool, parameterised queries, transactions and
 * the SQLSTATE -> result code mapping.
 *
 * SQL is always sent with parameters (PQexecParams); nothing here builds SQL from
 * strings. Errors are logged here with the SQLSTATE, so callers only map codes. */
#ifndef HERALD_DB_H
#define HERALD_DB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "store/pool.h"
#include "core/result.h"

struct h_db;  /* a pool of PGconn */

struct h_db_options {
  const char *url;          /* libpq URI or key=value string (copied) */
  int pool_size;
  int acquire_timeout_ms;
  int connect_timeout_s;
  int statement_timeout_ms; /* 0: none */
  const char *application_name;
  bool prepared_statements; /* h_db_exec prepares each statement once per connection
                             * (db_stmt.h); false behind PgBouncer < 1.21 in transaction mode */
  bool batch_plans;         /* with prepared_statements: plan_cache_mode=force_generic_plan
                             * (a statement's plan, and its foreign-key checks', made once and
                             * reused, whatever the size of its arrays) and no
                             * sequential scan or merge join (enable_seqscan, enable_mergejoin
                             * off), for connections whose statements look rows up by key a
                             * batch at a time (the group commit's): a plan made once must keep
                             * reaching the tables through their indexes however they grow */
};

/* Creates a pool; no connection is opened yet. Caller frees with h_db_destroy. */
struct h_db *h_db_create(const struct h_db_options *opt);
void h_db_destroy(struct h_db *db);

/* Opens one stand-alone connection (workers, migrations). Caller PQfinish()es it. */
h_result h_db_connect(const struct h_db_options *opt, PGconn **out);

/* Borrow/return a pooled connection. H_ERR_UNAVAILABLE or H_ERR_TIMEOUT on failure. */
h_result h_db_acquire(struct h_db *db, PGconn **conn);
void h_db_release(struct h_db *db, PGconn *conn);

void h_db_stats(struct h_db *db, struct h_pool_stats *out);

/* Runs one parameterised statement (through the connection's statement cache when it
 * has one: db_stmt.h). On H_OK, *res (if res != NULL) holds the result
 * the caller PQclear()s; on error nothing is left to free. NULL params are SQL NULL. */
h_result h_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   PGresult **res);

/* h_db_exec with binary parameters too (store/pg_array.h makes binary arrays): lengths[i] and
 * formats[i] (1: binary) as PQexecParams takes them; NULL formats: all text. */
h_result h_db_exec_formats(PGconn *conn, const char *sql, int nparams,
                           const char *const *params, const int *lengths, const int *formats,
                           PGresult **res);

/* h_db_exec with a generic plan, planned once per connection (h_db_stmt_exec_generic): for
 * statements whose best plan is the same for every parameter value. */
h_result h_db_exec_generic(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           PGresult **res);

/* Maps a failed result (or a dead connection when res is NULL) to a code:
 * 23505 -> CONFLICT, 23503/22xxx/23514 -> INVALID, 40001/40P01 -> CONFLICT,
 * 57014 -> TIMEOUT, 08xxx/57P0x/dead connection -> UNAVAILABLE, else INTERNAL. */
h_result h_db_map_error(PGconn *conn, const PGresult *res);

/* Pure SQLSTATE mapping (exposed for tests). */
h_result h_db_map_sqlstate(const char *sqlstate);

h_result h_db_begin(PGconn *conn);
h_result h_db_commit(PGconn *conn);
void h_db_rollback(PGconn *conn); /* best effort */

/* Acquires a pooled connection into *conn and opens a transaction; on failure *conn is
 * NULL. End it with h_db_tx_finish. */
h_result h_db_tx_begin(struct h_db *db, PGconn **conn);

/* Commits (r == H_OK) or rolls back the transaction of h_db_tx_begin and releases conn;
 * returns the first error. A NULL conn (begin failed) returns r. */
h_result h_db_tx_finish(struct h_db *db, PGconn *conn, h_result r);

/* Runs fn(conn, arg) inside BEGIN/COMMIT on a pooled connection; any error from fn
 * or the commit rolls back and is returned. */
h_result h_db_tx(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg);

/* Runs fn(conn, arg) on a pooled connection without opening a transaction. */
h_result h_db_run(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg);

/* h_db_tx and h_db_run for a fn that builds a JSON value in *made: on H_OK it is handed
 * to *out (a new reference the caller decrefs); on failure it is dropped and *out is
 * NULL. */
h_result h_db_tx_json(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg,
                      json_t **made, json_t **out);
h_result h_db_run_json(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg,
                       json_t **made, json_t **out);

/* A timestamptz column rendered as RFC 3339 UTC text, for SELECT lists. */
#define H_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* One result row as a JSON object keyed by column name (new reference): NULL ->
 * null, bool -> true/false, int2/4/8 -> integer, json/jsonb -> parsed, else string. */
json_t *h_db_row_json(const PGresult *res, int row);

/* Every row of res as a JSON array of h_db_row_json objects (new reference). */
json_t *h_db_rows_json(const PGresult *res, int max_rows);

/* h_db_exec of a statement that returns at most one row into *res (caller PQclear()s);
 * H_ERR_NOT_FOUND, with *res NULL, when it returned none. */
h_result h_db_exec_row(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       PGresult **res);

/* Runs a statement that returns at most one row: *row receives it as an h_db_row_json
 * object (new reference), or NULL with H_ERR_NOT_FOUND when there is none. */
h_result h_db_one(PGconn *conn, const char *sql, int nparams, const char *const *params,
                  json_t **row);

/* h_db_one with a generic plan (h_db_exec_generic). */
h_result h_db_one_generic(PGconn *conn, const char *sql, int nparams, const char *const *params,
                          json_t **row);

/* Runs a list query that selects at most limit + 1 rows (keyset pagination): *data
 * receives the first limit rows as a JSON array (new reference) and *has_more whether
 * there was one more. */
h_result h_db_page(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   int limit, json_t **data, bool *has_more);

/* SELECT 1 through the pool: H_OK when PostgreSQL answers. */
h_result h_db_ping(struct h_db *db);

#endif

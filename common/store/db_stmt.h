/* db_stmt.h - the statement cache behind h_db_exec.
 *
 * Parsing and analysing a statement costs PostgreSQL more than running a primary-key
 * lookup, so each distinct SQL text is prepared once per connection (under a name of
 * its own) and then executed by name. The connection keeps the cache (libpq instance
 * data) and frees it with itself. Plans stay per execution: connections with a cache
 * run with plan_cache_mode=force_custom_plan (h_db_connect), so a prepared statement
 * is planned for its actual parameters exactly as PQexecParams would plan it.
 *
 * A statement's name is derived from its text (h_db_stmt_name), so one name means one
 * statement on every server session: through a pooler that hands a server session from
 * client to client, a name can never run another client's statement. PgBouncer in
 * transaction pooling tracks named statements from 1.21 (max_prepared_statements > 0);
 * before that set HERALD_DB_PREPARED_STATEMENTS=false: a name prepared on one server
 * session is unknown on the next. */
#ifndef HERALD_DB_STMT_H
#define HERALD_DB_STMT_H

#include <libpq-fe.h>
#include <stdbool.h>

/* "h_" and 24 hex digits of the text's SHA-256, NUL-terminated. */
#define H_DB_STMT_NAME_LEN 27

/* The name sql is prepared under: a function of its text only. Pure. */
void h_db_stmt_name(const char *sql, char name[H_DB_STMT_NAME_LEN]);

/* Most statements prepared on one connection; later ones run unprepared. */
#define H_DB_STMT_MAX 512

/* Gives conn an empty statement cache; false when libpq refuses. */
bool h_db_stmt_enable(PGconn *conn);

/* True when conn has a cache. */
bool h_db_stmt_enabled(const PGconn *conn);

/* Runs sql like PQexecParams (text parameters, text results), through the cache when
 * conn has one and sql is a SELECT, WITH, INSERT, UPDATE or DELETE. The result is the
 * caller's (PQclear); NULL only when libpq is out of memory or the connection is gone. */
PGresult *h_db_stmt_exec(PGconn *conn, const char *sql, int nparams, const char *const *params);

/* h_db_stmt_exec with binary parameters too: lengths and formats as PQexecParams takes them
 * (formats[i] 1: params[i] is lengths[i] bytes in the type's binary format; NULL: all text). */
PGresult *h_db_stmt_exec_formats(PGconn *conn, const char *sql, int nparams,
                                 const char *const *params, const int *lengths,
                                 const int *formats);

/* h_db_stmt_exec with a generic plan: the statement is planned once per connection for any
 * parameters instead of at every execution. Only for statements whose best plan does not
 * depend on the values (a primary-key lookup, one index for every user): it runs in one
 * pipeline after set_config('plan_cache_mode', 'force_generic_plan', true), both prepared,
 * one Sync, so one round trip and one implicit transaction, which the setting does not
 * outlive. Runs as h_db_stmt_exec when conn has no cache or is inside a transaction. */
PGresult *h_db_stmt_exec_generic(PGconn *conn, const char *sql, int nparams,
                                 const char *const *params);

/* How many statements conn has prepared (tests). */
int h_db_stmt_count(const PGconn *conn);

#endif

/* db.c - libpq pool and helpers. */
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db_stmt.h"
#include "core/log.h"

struct h_db {
  struct h_db_options opt; /* strings owned */
  struct h_pool *pool;
};

static h_result pg_open(void *ctx, void **conn) {
  struct h_db *db = ctx;
  PGconn *c = NULL;
  h_result r = h_db_connect(&db->opt, &c);
  *conn = c;
  return r;
}

static bool pg_healthy(void *ctx, void *conn) {
  (void)ctx;
  PGconn *c = conn;
  return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

static void pg_close(void *ctx, void *conn) {
  (void)ctx;
  PQfinish(conn);
}

static const struct h_pool_vtable pg_vtable = {pg_open, pg_healthy, pg_close};

struct h_db *h_db_create(const struct h_db_options *opt) {
  struct h_db *db = h_calloc(1, sizeof(*db));
  db->opt = *opt;
  db->opt.url = h_strdup(opt->url);
  db->opt.application_name = h_strdup(opt->application_name ? opt->application_name : "herald");
  db->pool = h_pool_create(&pg_vtable, db, opt->pool_size, opt->acquire_timeout_ms);
  return db;
}

void h_db_destroy(struct h_db *db) {
  if (db == NULL) {
    return;
  }
  h_pool_destroy(db->pool);
  free((char *)db->opt.url);
  free((char *)db->opt.application_name);
  free(db);
}

/* Server NOTICEs ("relation already exists, skipping") are not errors: drop them. */
static void ignore_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

h_result h_db_connect(const struct h_db_options *opt, PGconn **out) {
  char timeout[16], options[256];
  snprintf(timeout, sizeof(timeout), "%d", opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 3);
  /* Prepared statements keep per-execution plans (db_stmt.h): same plans as PQexecParams;
   * batch_plans: see db.h. */
  snprintf(options, sizeof(options), "-c statement_timeout=%d%s%s", opt->statement_timeout_ms,
           !opt->prepared_statements ? ""
           : opt->batch_plans        ? " -c plan_cache_mode=force_generic_plan"
                                     : " -c plan_cache_mode=force_custom_plan",
           opt->batch_plans ? " -c enable_seqscan=off -c enable_mergejoin=off" : "");
  const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
  const char *values[] = {opt->url, timeout,
                          opt->application_name ? opt->application_name : "herald", options,
                          NULL};
  PGconn *c = PQconnectdbParams(keys, values, 1);
  if (PQstatus(c) != CONNECTION_OK) {
    char *msg = h_strdup(PQerrorMessage(c));
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n')) {
      msg[--n] = '\0';
    }
    h_log_warning("h_db_connect: PQconnectdbParams failed: %s", msg);
    free(msg);
    PQfinish(c);
    *out = NULL;
    return H_ERR_UNAVAILABLE;
  }
  PQsetNoticeProcessor(c, ignore_notice, NULL);
  if (opt->prepared_statements && !h_db_stmt_enable(c)) {
    h_log_warning("h_db_connect: no statement cache on this connection (libpq refused it)");
  }
  *out = c;
  return H_OK;
}

h_result h_db_acquire(struct h_db *db, PGconn **conn) {
  void *c = NULL;
  h_result r = h_pool_acquire(db->pool, &c);
  *conn = r == H_OK ? c : NULL;
  return r;
}

void h_db_release(struct h_db *db, PGconn *conn) {
  if (conn == NULL) {
    return;
  }
  bool broken = PQstatus(conn) != CONNECTION_OK;
  if (!broken && PQtransactionStatus(conn) != PQTRANS_IDLE) {
    /* A caller left a transaction open: roll back rather than leak it to the next. */
    h_db_rollback(conn);
    broken = PQtransactionStatus(conn) != PQTRANS_IDLE;
  }
  h_pool_release(db->pool, conn, broken);
}

void h_db_stats(struct h_db *db, struct h_pool_stats *out) { h_pool_get_stats(db->pool, out); }

h_result h_db_map_sqlstate(const char *s) {
  if (s == NULL || strlen(s) != 5) {
    return H_ERR_INTERNAL;
  }
  if (strcmp(s, "23505") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0) {
    return H_ERR_CONFLICT;
  }
  if (strncmp(s, "22", 2) == 0 || strcmp(s, "23503") == 0 || strcmp(s, "23514") == 0 ||
      strcmp(s, "23502") == 0) {
    return H_ERR_INVALID;
  }
  if (strcmp(s, "57014") == 0 || strcmp(s, "55P03") == 0) {
    return H_ERR_TIMEOUT;
  }
  if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P0", 4) == 0 || strcmp(s, "53300") == 0 ||
      strcmp(s, "25006") == 0) {
    return H_ERR_UNAVAILABLE;
  }
  return H_ERR_INTERNAL;
}

h_result h_db_map_error(PGconn *conn, const PGresult *res) {
  if (PQstatus(conn) != CONNECTION_OK) {
    return H_ERR_UNAVAILABLE;
  }
  const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return state != NULL ? h_db_map_sqlstate(state) : H_ERR_UNAVAILABLE;
}

/* Hands a result to the caller (or frees it) and maps a failure to a code, logged. */
static h_result exec_result(PGconn *conn, PGresult *r, PGresult **res, const char *what) {
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    if (res != NULL) {
      *res = r;
    } else {
      PQclear(r);
    }
    return H_OK;
  }
  h_result code = h_db_map_error(conn, r);
  const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  enum h_log_level level = code == H_ERR_CONFLICT || code == H_ERR_INVALID ? H_LOG_DEBUG
                                                                            : H_LOG_ERROR;
  h_log(level, NULL, NULL, "h_db_exec: %s failed: sqlstate=%s %s", what,
        state ? state : "-", msg ? msg : PQerrorMessage(conn));
  PQclear(r);
  return code;
}

h_result h_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   PGresult **res) {
  if (res != NULL) {
    *res = NULL;
  }
  PGresult *r = h_db_stmt_exec(conn, sql, nparams, params);
  return exec_result(conn, r, res, "PQexecParams");
}

h_result h_db_exec_formats(PGconn *conn, const char *sql, int nparams,
                           const char *const *params, const int *lengths, const int *formats,
                           PGresult **res) {
  if (res != NULL) {
    *res = NULL;
  }
  PGresult *r = h_db_stmt_exec_formats(conn, sql, nparams, params, lengths, formats);
  return exec_result(conn, r, res, "PQexecParams");
}

h_result h_db_exec_generic(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           PGresult **res) {
  if (res != NULL) {
    *res = NULL;
  }
  PGresult *r = h_db_stmt_exec_generic(conn, sql, nparams, params);
  return exec_result(conn, r, res, "EXECUTE (generic plan)");
}

h_result h_db_begin(PGconn *conn) { return h_db_exec(conn, "BEGIN", 0, NULL, NULL); }
h_result h_db_commit(PGconn *conn) { return h_db_exec(conn, "COMMIT", 0, NULL, NULL); }

void h_db_rollback(PGconn *conn) {
  if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
    PQclear(PQexec(conn, "ROLLBACK"));
  }
}

h_result h_db_tx_begin(struct h_db *db, PGconn **conn) {
  *conn = NULL;
  h_result r = h_db_acquire(db, conn);
  if (r == H_OK && (r = h_db_begin(*conn)) != H_OK) {
    h_db_release(db, *conn);
    *conn = NULL;
  }
  return r;
}

h_result h_db_tx_finish(struct h_db *db, PGconn *conn, h_result r) {
  if (conn == NULL) {
    return r;
  }
  if (r == H_OK) {
    r = h_db_commit(conn);
  }
  if (r != H_OK) {
    h_db_rollback(conn);
  }
  h_db_release(db, conn);
  return r;
}

h_result h_db_tx(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg) {
  PGconn *conn = NULL;
  h_result r = h_db_tx_begin(db, &conn);
  if (r == H_OK) {
    r = fn(conn, arg);
  }
  return h_db_tx_finish(db, conn, r);
}

h_result h_db_run(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg) {
  PGconn *conn = NULL;
  h_result r = h_db_acquire(db, &conn);
  if (r == H_OK) {
    r = fn(conn, arg);
    h_db_release(db, conn);
  }
  return r;
}

h_result h_db_ping(struct h_db *db) {
  PGconn *c = NULL;
  h_result r = h_db_acquire(db, &c);
  if (r != H_OK) {
    return r;
  }
  r = h_db_exec(c, "SELECT 1", 0, NULL, NULL);
  h_db_release(db, c);
  return r;
}

/* PostgreSQL type OIDs (pg_type.h is not part of libpq's public headers). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_JSON = 114,
       OID_JSONB = 3802 };

json_t *h_db_row_json(const PGresult *res, int row) {
  json_t *obj = json_object();
  int n = PQnfields(res);
  for (int c = 0; c < n; c++) {
    const char *name = PQfname(res, c);
    if (PQgetisnull(res, row, c)) {
      json_object_set_new(obj, name, json_null());
      continue;
    }
    const char *v = PQgetvalue(res, row, c);
    json_t *value;
    switch (PQftype(res, c)) {
    case OID_BOOL:
      value = json_boolean(v[0] == 't');
      break;
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
      value = json_integer(strtoll(v, NULL, 10));
      break;
    case OID_JSON:
    case OID_JSONB:
      value = json_loads(v, JSON_DECODE_ANY, NULL);
      if (value == NULL) {
        value = json_null();
      }
      break;
    default:
      value = json_string(v);
      break;
    }
    json_object_set_new(obj, name, value);
  }
  return obj;
}

json_t *h_db_rows_json(const PGresult *res, int max_rows) {
  json_t *arr = json_array();
  int n = PQntuples(res);
  for (int r = 0; r < n && r < max_rows; r++) {
    json_array_append_new(arr, h_db_row_json(res, r));
  }
  return arr;
}

/* Hands *made to *out after r (dropping it unless r is H_OK). */
static h_result hand_over(h_result r, json_t **made, json_t **out) {
  if (r != H_OK) {
    json_decref(*made);
    *made = NULL;
  }
  *out = *made;
  return r;
}

h_result h_db_tx_json(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg,
                      json_t **made, json_t **out) {
  return hand_over(h_db_tx(db, fn, arg), made, out);
}

h_result h_db_run_json(struct h_db *db, h_result (*fn)(PGconn *conn, void *arg), void *arg,
                       json_t **made, json_t **out) {
  return hand_over(h_db_run(db, fn, arg), made, out);
}

h_result h_db_exec_row(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       PGresult **res) {
  h_result r = h_db_exec(conn, sql, nparams, params, res);
  if (r == H_OK && PQntuples(*res) == 0) {
    PQclear(*res);
    *res = NULL;
    r = H_ERR_NOT_FOUND;
  }
  return r;
}

/* The first row of a statement's result r (freed here) into *row; none: H_ERR_NOT_FOUND. */
static h_result first_row(h_result r, PGresult *res, json_t **row) {
  *row = NULL;
  if (r == H_OK && PQntuples(res) == 0) {
    r = H_ERR_NOT_FOUND;
  }
  if (r == H_OK) {
    *row = h_db_row_json(res, 0);
  }
  PQclear(res);
  return r;
}

h_result h_db_one(PGconn *conn, const char *sql, int nparams, const char *const *params,
                  json_t **row) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, nparams, params, &res);
  return first_row(r, res, row);
}

h_result h_db_one_generic(PGconn *conn, const char *sql, int nparams, const char *const *params,
                          json_t **row) {
  PGresult *res = NULL;
  h_result r = h_db_exec_generic(conn, sql, nparams, params, &res);
  return first_row(r, res, row);
}

h_result h_db_page(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   int limit, json_t **data, bool *has_more) {
  PGresult *res = NULL;
  *data = NULL;
  *has_more = false;
  h_result r = h_db_exec(conn, sql, nparams, params, &res);
  if (r != H_OK) {
    return r;
  }
  *has_more = PQntuples(res) > limit;
  *data = h_db_rows_json(res, limit);
  PQclear(res);
  return H_OK;
}

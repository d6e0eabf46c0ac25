/* db_stmt.c - the per-connection statement cache (db_stmt.h). */
#include "store/db_stmt.h"

#include <libpq-events.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "crypto/crypto.h"

#define SLOTS 1024 /* open addressing, at most half full */

struct entry {
  uint64_t hash;
  char *sql;                   /* owned; NULL: empty slot */
  char name[H_DB_STMT_NAME_LEN]; /* h_db_stmt_name of sql */
};

struct cache {
  int count;       /* entries in slots */
  struct entry slots[SLOTS];
};

static void clear(struct cache *c) {
  for (int i = 0; i < SLOTS; i++) {
    free(c->slots[i].sql);
    c->slots[i].sql = NULL;
  }
  c->count = 0;
}

static int events(PGEventId id, void *info, void *pass) {
  (void)pass;
  if (id == PGEVT_CONNRESET || id == PGEVT_CONNDESTROY) {
    PGconn *conn = id == PGEVT_CONNRESET ? ((PGEventConnReset *)info)->conn
                                         : ((PGEventConnDestroy *)info)->conn;
    struct cache *c = PQinstanceData(conn, events);
    if (c != NULL) {
      clear(c); /* a reset connection is a new server session: nothing is prepared there */
      if (id == PGEVT_CONNDESTROY) {
        free(c);
      }
    }
  }
  return 1;
}

bool h_db_stmt_enable(PGconn *conn) {
  if (PQinstanceData(conn, events) != NULL) {
    return true;
  }
  if (!PQregisterEventProc(conn, events, "herald-statements", NULL)) {
    return false;
  }
  return PQsetInstanceData(conn, events, h_calloc(1, sizeof(struct cache))) != 0;
}

bool h_db_stmt_enabled(const PGconn *conn) {
  return PQinstanceData(conn, events) != NULL;
}

int h_db_stmt_count(const PGconn *conn) {
  const struct cache *c = PQinstanceData(conn, events);
  return c != NULL ? c->count : 0;
}


/* Data statements only: BEGIN, COMMIT, SET, LOCK... go the plain way. */
static bool cacheable(const char *sql) {
  sql += strspn(sql, " \t\r\n(");
  static const char *const verbs[] = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE"};
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
    size_t n = strlen(verbs[i]);
    if (strncasecmp(sql, verbs[i], n) == 0 && (sql[n] == ' ' || sql[n] == '\n')) {
      return true;
    }
  }
  return false;
}

/* The slot hash of sql: FNV-1a over its length and its first and last SQL_HASH_ENDS bytes.
 * A statement runs with every request and the longest are kilobytes (a batch's INSERT of
 * notifications is 6 kB): hashed whole, the lookup cost 14,500 instructions an execution
 * (callgrind, bench/instructions_post.sh). Statements alike at both ends and as long share a
 * probe run, and slot_for's strcmp tells them apart. */
#define SQL_HASH_ENDS 64
static uint64_t sql_hash(const char *sql) {
  size_t n = strlen(sql);
  uint64_t h = h_fnv1a_n(H_FNV1A_OFFSET, (const char *)&n, sizeof(n));
  if (n <= 2 * SQL_HASH_ENDS) {
    return h_fnv1a_n(h, sql, n);
  }
  h = h_fnv1a_n(h, sql, SQL_HASH_ENDS);
  return h_fnv1a_n(h, sql + n - SQL_HASH_ENDS, SQL_HASH_ENDS);
}

/* The slot holding sql, or the empty slot where it belongs. */
static struct entry *slot_for(struct cache *c, const char *sql, uint64_t hash) {
  size_t i = (size_t)hash & (SLOTS - 1);
  while (c->slots[i].sql != NULL &&
         (c->slots[i].hash != hash || strcmp(c->slots[i].sql, sql) != 0)) {
    i = (i + 1) & (SLOTS - 1);
  }
  return &c->slots[i];
}

/* Removes e, re-seating the entries of its probe run behind it. */
static void forget(struct cache *c, struct entry *e) {
  free(e->sql);
  e->sql = NULL;
  c->count--;
  size_t i = (size_t)(e - c->slots);
  for (size_t j = (i + 1) & (SLOTS - 1); c->slots[j].sql != NULL; j = (j + 1) & (SLOTS - 1)) {
    struct entry moved = c->slots[j];
    c->slots[j].sql = NULL;
    *slot_for(c, moved.sql, moved.hash) = moved;
  }
}

static bool state_is(const PGresult *r, const char *sqlstate) {
  const char *s = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return s != NULL && strcmp(s, sqlstate) == 0;
}

void h_db_stmt_name(const char *sql, char name[H_DB_STMT_NAME_LEN]) {
  char hex[65];
  h_sha256_hex(sql, strlen(sql), hex);
  snprintf(name, H_DB_STMT_NAME_LEN, "h_%.24s", hex);
}

/* The entry of sql in c, prepared on conn first when new. NULL when the cache is full
 * (*err NULL: run sql plainly) or the statement does not prepare (*err: its error). */
static struct entry *prepared(struct cache *c, PGconn *conn, const char *sql, int nparams,
                              PGresult **err) {
  *err = NULL;
  uint64_t hash = sql_hash(sql);
  struct entry *e = slot_for(c, sql, hash);
  if (e->sql != NULL) {
    return e;
  }
  if (c->count >= H_DB_STMT_MAX) {
    return NULL;
  }
  char name[H_DB_STMT_NAME_LEN];
  h_db_stmt_name(sql, name);
  PGresult *prep = PQprepare(conn, name, sql, nparams, NULL);
  /* 42P05: a pooled server session already holds this name, hence this very text */
  if (PQresultStatus(prep) != PGRES_COMMAND_OK && !state_is(prep, "42P05")) {
    *err = prep; /* the statement's own error (syntax, unknown column...) */
    return NULL;
  }
  PQclear(prep);
  e->hash = hash;
  e->sql = h_strdup(sql);
  memcpy(e->name, name, sizeof(name));
  c->count++;
  return e;
}

PGresult *h_db_stmt_exec_formats(PGconn *conn, const char *sql, int nparams,
                                 const char *const *params, const int *lengths,
                                 const int *formats) {
  struct cache *c = PQinstanceData(conn, events);
  if (c == NULL || !cacheable(sql) || PQtransactionStatus(conn) == PQTRANS_INERROR) {
    return PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, 0);
  }
  PGresult *err = NULL;
  struct entry *e = prepared(c, conn, sql, nparams, &err);
  if (e == NULL) {
    return err != NULL ? err : PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, 0);
  }
  bool idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
  PGresult *r = PQexecPrepared(conn, e->name, nparams, params, lengths, formats, 0);
  if (state_is(r, "26000") || state_is(r, "0A000")) {
    /* unknown name (DISCARD ALL, a pooler) or a plan whose result type changed (DDL):
     * forget it; outside a transaction nothing ran, so run it plainly now */
    if (state_is(r, "26000")) {
      clear(c);
    } else {
      forget(c, e);
    }
    if (idle) {
      PQclear(r);
      r = PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, 0);
    }
  }
  return r;
}

PGresult *h_db_stmt_exec(PGconn *conn, const char *sql, int nparams, const char *const *params) {
  return h_db_stmt_exec_formats(conn, sql, nparams, params, NULL, NULL);
}

/* Sets plan_cache_mode for the rest of the transaction it runs in (set_config's is_local):
 * in a pipeline that is the statement after it, up to the Sync. */
static const char generic_sql[] =
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

/* Reads the results of a two-statement pipeline up to its Sync: the second statement's result
 * (the first's error when it failed, PGRES_PIPELINE_ABORTED skipped), NULL when the
 * connection broke before it came. */
static PGresult *pipeline_results(PGconn *conn) {
  PGresult *first = NULL, *second = NULL;
  int query = 0; /* statements whose results have ended (a NULL from PQgetResult) */
  for (;;) {
    PGresult *x = PQgetResult(conn);
    if (x == NULL) {
      if (PQstatus(conn) != CONNECTION_OK || ++query > 2) {
        break;
      }
      continue;
    }
    ExecStatusType st = PQresultStatus(x);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(x);
      break;
    }
    PGresult **slot = query == 0 ? &first : &second;
    if (*slot == NULL && st != PGRES_PIPELINE_ABORTED) {
      *slot = x;
    } else {
      PQclear(x);
    }
  }
  if (first != NULL && PQresultStatus(first) != PGRES_TUPLES_OK) {
    PQclear(second);
    return first;
  }
  PQclear(first);
  return second;
}

PGresult *h_db_stmt_exec_generic(PGconn *conn, const char *sql, int nparams,
                                 const char *const *params) {
  struct cache *c = PQinstanceData(conn, events);
  if (c == NULL || !cacheable(sql) || PQtransactionStatus(conn) != PQTRANS_IDLE) {
    return h_db_stmt_exec(conn, sql, nparams, params);
  }
  PGresult *err = NULL;
  struct entry *set = prepared(c, conn, generic_sql, 0, &err);
  if (set == NULL) {
    PQclear(err);
    return h_db_stmt_exec(conn, sql, nparams, params);
  }
  char set_name[H_DB_STMT_NAME_LEN];
  memcpy(set_name, set->name, sizeof(set_name)); /* preparing sql may move set's entry */
  struct entry *e = prepared(c, conn, sql, nparams, &err);
  if (e == NULL) {
    return err != NULL ? err : PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
  }
  /* one round trip: the setting, the statement, one Sync, so one implicit transaction that
   * the setting does not outlive */
  if (!PQenterPipelineMode(conn)) {
    return h_db_stmt_exec(conn, sql, nparams, params);
  }
  bool sent = PQsendQueryPrepared(conn, set_name, 0, NULL, NULL, NULL, 0) &&
              PQsendQueryPrepared(conn, e->name, nparams, params, NULL, NULL, 0);
  /* the Sync even when a send failed, so that what went out is read and the pipeline ends */
  PGresult *r = PQpipelineSync(conn) ? pipeline_results(conn) : NULL;
  PQexitPipelineMode(conn);
  if (!sent || r == NULL) {
    PQclear(r);
    return PQstatus(conn) == CONNECTION_OK ? h_db_stmt_exec(conn, sql, nparams, params) : NULL;
  }
  if (state_is(r, "26000") || state_is(r, "0A000")) {
    /* nothing ran. 26000: the session does not know a name (DISCARD ALL, a pooler): prepare
     * again from scratch; 0A000: the result type changed (DDL) */
    if (state_is(r, "26000")) {
      clear(c);
    } else {
      forget(c, e);
    }
    PQclear(r);
    r = h_db_stmt_exec(conn, sql, nparams, params);
  }
  return r;
}

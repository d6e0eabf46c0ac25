/* reconcile_jobs.c - the reconcile_jobs table and herald:q:{reconcile}. */
#include "reconcile/reconcile_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "notifications/outbox.h"
#include "queue/queue.h"

h_result h_reconcile_jobs_enqueue(PGconn *conn, const char *kind, const char *subject,
                                  char id[37]) {
  const char *params[] = {kind, subject};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "WITH ins AS (INSERT INTO reconcile_jobs (kind, subject_id)"
                         " VALUES ($1, $2) ON CONFLICT (kind, coalesce(subject_id, ''))"
                         " WHERE status IN ('queued', 'running') DO NOTHING RETURNING id)"
                         " SELECT id::text FROM ins UNION ALL SELECT id::text FROM"
                         " reconcile_jobs WHERE kind = $1 AND coalesce(subject_id, '') ="
                         " coalesce($2, '') AND status IN ('queued', 'running') LIMIT 1",
                         2, params, &res);
  if (r == H_OK) {
    r = PQntuples(res) > 0 ? H_OK : H_ERR_CONFLICT;
    if (r == H_OK) {
      snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
  }
  return r;
}

void h_reconcile_jobs_push(struct h_app *app, const char *const *ids, size_t n) {
  if (n > 0) {
    h_outbox_push(app, H_QUEUE_RECONCILE, ids, n, "reconcile");
  }
}

h_result h_reconcile_jobs_claim(PGconn *conn, const char *id, struct h_reconcile_job *out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE reconcile_jobs SET status = 'running', attempts = attempts + 1,"
                         " fencing_token = fencing_token + 1, updated_at = now()"
                         " WHERE id = $1::uuid AND status = 'queued' AND due_at <= now()"
                         " RETURNING kind, coalesce(subject_id, ''), fencing_token, attempts",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->kind, sizeof(out->kind), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->subject, sizeof(out->subject), "%s", PQgetvalue(res, 0, 1));
    out->token = atoll(PQgetvalue(res, 0, 2));
    out->attempts = atoi(PQgetvalue(res, 0, 3));
  }
  PQclear(res);
  return r;
}

h_result h_reconcile_jobs_finish(PGconn *conn, const struct h_reconcile_job *job, bool ok,
                                 const char *error, int retry_s) {
  char tok[24], retry[16];
  snprintf(tok, sizeof(tok), "%lld", job->token);
  snprintf(retry, sizeof(retry), "%d", retry_s);
  const char *status = ok ? "done" : retry_s >= 0 ? "queued" : "failed";
  const char *params[] = {job->id, tok, status, error, retry};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "UPDATE reconcile_jobs SET status = $3, last_error = $4,"
                         " due_at = CASE WHEN $3 = 'queued' THEN now() +"
                         " make_interval(secs => $5::int) ELSE due_at END, updated_at = now()"
                         " WHERE id = $1::uuid AND fencing_token = $2::bigint",
                         5, params, &res);
  if (r == H_OK) {
    r = atol(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_CONFLICT;
    PQclear(res);
  }
  return r;
}

static h_result exec_ids(PGconn *conn, const char *sql, int n, const char *const *params,
                         json_t *ids) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r == H_OK) {
    for (int i = 0; ids != NULL && i < PQntuples(res); i++) {
      json_array_append_new(ids, json_string(PQgetvalue(res, i, 0)));
    }
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_jobs_tick(PGconn *conn, time_t yesterday, json_t *ids) {
  char day[24];
  snprintf(day, sizeof(day), "%lld", (long long)yesterday);
  const char *params[] = {day, day};
  h_result r = exec_ids(
      conn,
      "INSERT INTO reconcile_jobs (kind, subject_id)"
      " SELECT 'payment_sync', id::text FROM payments WHERE NOT needs_review"
      "   AND (status IN ('processing', 'requires_action') OR needs_reconciliation)"
      "   AND coalesce(next_sync_at, updated_at + interval '60 seconds') <= now()"
      " UNION ALL SELECT 'refund_sync', id::text FROM refunds WHERE NOT needs_review"
      "   AND (status IN ('pending', 'requires_action') OR needs_reconciliation)"
      "   AND coalesce(next_sync_at, updated_at + interval '60 seconds') <= now()"
      " ON CONFLICT (kind, coalesce(subject_id, '')) WHERE status IN ('queued', 'running')"
      " DO NOTHING RETURNING id::text",
      0, NULL, NULL);
  if (r == H_OK) {
    /* yesterday's ledger: a run row (unless one exists) and its job */
    r = exec_ids(conn,
                 "WITH run AS (INSERT INTO reconciliation_runs (period_start, period_end)"
                 " SELECT to_timestamp($1::bigint), to_timestamp($1::bigint) + interval '1 day'"
                 " WHERE NOT EXISTS (SELECT 1 FROM reconciliation_runs WHERE period_start ="
                 " to_timestamp($1::bigint) AND period_end = to_timestamp($1::bigint) +"
                 " interval '1 day') RETURNING id)"
                 " INSERT INTO reconcile_jobs (kind, subject_id) SELECT 'ledger_run', id::text"
                 " FROM run UNION ALL SELECT 'housekeeping', $2::text WHERE NOT EXISTS (SELECT 1"
                 " FROM reconcile_jobs WHERE kind = 'housekeeping' AND subject_id = $2::text)"
                 " RETURNING id::text",
                 2, params, NULL);
  }
  if (r == H_OK) {
    r = exec_ids(conn,
                 "UPDATE reconcile_jobs SET status = 'queued', updated_at = now()"
                 " WHERE status = 'running' AND updated_at < now() - interval '10 minutes'",
                 0, NULL, NULL);
  }
  if (r == H_OK) {
    r = exec_ids(conn,
                 "SELECT id::text FROM reconcile_jobs WHERE status = 'queued' AND due_at <= now()"
                 " ORDER BY due_at LIMIT 1000",
                 0, NULL, ids);
  }
  return r;
}

h_result h_reconcile_jobs_sweep(PGconn *conn, int quiet_s, int limit, json_t *ids) {
  char quiet[16], lim[16];
  snprintf(quiet, sizeof(quiet), "%d", quiet_s);
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {quiet, lim};
  return exec_ids(conn,
                  "UPDATE reconcile_jobs SET updated_at = now() WHERE id IN (SELECT id FROM"
                  " reconcile_jobs WHERE status = 'queued' AND due_at <= now() AND updated_at <"
                  " now() - make_interval(secs => $1::int) ORDER BY due_at LIMIT $2::int"
                  " FOR UPDATE SKIP LOCKED) RETURNING id::text",
                  2, params, ids);
}

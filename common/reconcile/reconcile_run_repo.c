/* reconcile_run_repo.c - SQL of reconciliation runs, their items and housekeeping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "reconcile/reconcile_repo.h"

#define RUN_JSON                                                                            \
  "json_build_object('object', 'reconciliation_run', 'id', r.id, 'status', r.status,"     \
  " 'since', " H_SQL_TS("r.period_start") ", 'until', " H_SQL_TS("r.period_end") ","        \
  " 'requested_by', r.requested_by, 'totals', json_build_object('local_count',"            \
  " r.local_count, 'provider_count', r.provider_count, 'local_amount', r.local_amount,"    \
  " 'provider_amount', r.provider_amount, 'items_found', r.items_found, 'items_new',"      \
  " r.items_new, 'disputes', r.disputes), 'error', r.error, 'created_at', " H_SQL_TS("r.created_at") ","            \
  " 'started_at', " H_SQL_TS("r.started_at") ", 'finished_at', " H_SQL_TS("r.finished_at") ")"

static void ts(time_t t, char out[24]) {
  snprintf(out, 24, "%lld", (long long)t);
}

h_result h_reconcile_repo_run_insert(PGconn *conn, time_t since, time_t until,
                                     const char *requested_by, char run_id[37]) {
  char s[24], u[24];
  ts(since, s);
  ts(until, u);
  const char *params[] = {s, u, requested_by};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "INSERT INTO reconciliation_runs (period_start, period_end, requested_by)"
                         " VALUES (to_timestamp($1::bigint), to_timestamp($2::bigint), $3::uuid)"
                         " RETURNING id::text",
                         3, params, &res);
  if (r == H_OK) {
    snprintf(run_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_repo_run_period(PGconn *conn, const char *run_id, time_t *since,
                                     time_t *until, char status[16]) {
  const char *params[] = {run_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT extract(epoch FROM period_start)::bigint,"
                         " extract(epoch FROM period_end)::bigint, status"
                         " FROM reconciliation_runs WHERE id = $1::uuid FOR UPDATE",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    *since = (time_t)atoll(PQgetvalue(res, 0, 0));
    *until = (time_t)atoll(PQgetvalue(res, 0, 1));
    snprintf(status, 16, "%s", PQgetvalue(res, 0, 2));
  }
  PQclear(res);
  return r;
}

h_result h_reconcile_repo_run_status(PGconn *conn, const char *run_id, const char *status,
                                     const char *error) {
  const char *params[] = {run_id, status, error};
  return h_db_exec(conn,
                   "UPDATE reconciliation_runs SET status = $2, error = $3,"
                   " started_at = CASE WHEN $2 = 'running' THEN now() ELSE started_at END,"
                   " finished_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN now() END"
                   " WHERE id = $1::uuid",
                   3, params, NULL);
}

h_result h_reconcile_repo_item_insert(PGconn *conn, const char *run_id, time_t since, time_t until,
                                      const json_t *item, bool *added) {
  char s[24], u[24];
  ts(since, s);
  ts(until, u);
  char *local = json_dumps(json_object_get(item, "local"), JSON_COMPACT | JSON_ENCODE_ANY);
  char *prov = json_dumps(json_object_get(item, "provider"), JSON_COMPACT | JSON_ENCODE_ANY);
  const char *params[] = {run_id, s, u,
                          json_string_value(json_object_get(item, "kind")),
                          json_string_value(json_object_get(item, "object_type")),
                          json_string_value(json_object_get(item, "object_id")), local, prov};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "INSERT INTO reconciliation_items (run_id, period_start, period_end,"
                         " kind, object_type, object_id, local, provider) VALUES ($1::uuid,"
                         " to_timestamp($2::bigint), to_timestamp($3::bigint), $4, $5, $6,"
                         " $7::jsonb, $8::jsonb)"
                         " ON CONFLICT (period_start, period_end, kind, object_id) DO NOTHING",
                         8, params, &res);
  free(local);
  free(prov);
  if (r == H_OK) {
    *added = atol(PQcmdTuples(res)) > 0;
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_repo_run_finish(PGconn *conn, const char *run_id, const json_t *t) {
  char *text = json_dumps(t, JSON_COMPACT);
  const char *params[] = {run_id, text};
  h_result r = h_db_exec(
      conn,
      "UPDATE reconciliation_runs SET status = 'succeeded', finished_at = now(), error = NULL,"
      " local_count = ($2::jsonb->>'local_count')::int,"
      " provider_count = ($2::jsonb->>'provider_count')::int,"
      " local_amount = ($2::jsonb->>'local_amount')::bigint,"
      " provider_amount = ($2::jsonb->>'provider_amount')::bigint,"
      " items_found = ($2::jsonb->>'items_found')::int,"
      " items_new = ($2::jsonb->>'items_new')::int,"
      " disputes = COALESCE($2::jsonb->'disputes', '{}'::jsonb) WHERE id = $1::uuid",
      2, params, NULL);
  free(text);
  return r;
}

h_result h_reconcile_repo_run_exists(PGconn *conn, time_t since, time_t until, bool *exists) {
  char s[24], u[24];
  ts(since, s);
  ts(until, u);
  const char *params[] = {s, u};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT 1 FROM reconciliation_runs WHERE period_start ="
                         " to_timestamp($1::bigint) AND period_end = to_timestamp($2::bigint)"
                         " AND status <> 'failed' LIMIT 1",
                         2, params, &res);
  if (r == H_OK) {
    *exists = PQntuples(res) > 0;
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_repo_run_get_json(PGconn *conn, const char *run_id, const char *kind,
                                       json_t **out) {
  const char *params[] = {run_id, kind};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "SELECT " RUN_JSON "::jsonb || jsonb_build_object('items', coalesce((SELECT"
      " jsonb_agg(jsonb_build_object('object', 'reconciliation_item', 'id', i.id, 'kind',"
      " i.kind, 'object_type', i.object_type, 'object_id', i.object_id, 'local', i.local,"
      " 'provider', i.provider, 'run_id', i.run_id, 'created_at', " H_SQL_TS("i.created_at")
      ") ORDER BY i.created_at, i.id) FROM reconciliation_items i WHERE i.period_start ="
      " r.period_start AND i.period_end = r.period_end AND ($2::text IS NULL OR i.kind = $2)),"
      " '[]'::jsonb)) AS run FROM reconciliation_runs r WHERE r.id = $1::uuid",
      2, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  *out = r == H_OK ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
  PQclear(res);
  return r;
}

h_result h_reconcile_repo_run_list(PGconn *conn, const struct h_page *page, json_t **data,
                                   bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {page->starting_after, limit};
  PGresult *res = NULL;
  *data = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " RUN_JSON "::text FROM reconciliation_runs r"
                         " WHERE ($1::uuid IS NULL OR (r.created_at, r.id) < (SELECT created_at,"
                         "   id FROM reconciliation_runs WHERE id = $1::uuid))"
                         " ORDER BY r.created_at DESC, r.id DESC LIMIT $2::int",
                         2, params, &res);
  if (r != H_OK) {
    return r;
  }
  int n = PQntuples(res);
  *has_more = n > page->limit;
  *data = json_array();
  for (int i = 0; i < n && i < page->limit; i++) {
    json_array_append_new(*data, json_loads(PQgetvalue(res, i, 0), 0, NULL));
  }
  PQclear(res);
  return H_OK;
}

static const char *const purge_sql[] = {
  "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE created_at < now() -"
  " make_interval(days => $1::int) LIMIT $2::int)",
  "DELETE FROM delivery_events WHERE id IN (SELECT id FROM delivery_events WHERE created_at <"
  " now() - make_interval(days => $1::int) LIMIT $2::int)",
  "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE"
  " created_at < now() - make_interval(secs => $1::int) LIMIT $2::int)",
  "DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM refresh_tokens WHERE expires_at <"
  " now() - make_interval(days => $1::int) LIMIT $2::int)",
  /* notifications (their deliveries go with them through the trigger of migration 0091,
   * the deliveries' events by ON DELETE CASCADE, and what a digest carried loses its
   * reference through 0102's trigger and 0101's index), found oldest first through the
   * deliveries' created_at index (a notification and its deliveries share created_at), never
   * one with a delivery still on its way */
  "DELETE FROM notifications WHERE id IN (SELECT d.notification_id FROM deliveries d"
  " WHERE d.created_at < now() - make_interval(days => $1::int)"
  " ORDER BY d.created_at, d.id LIMIT $2::int)"
  " AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.notification_id = notifications.id"
  "   AND x.status IN ('queued', 'scheduled', 'processing'))",
};

h_result h_reconcile_repo_purge(PGconn *conn, int what, int days, int batch, long *n) {
  char d[16], b[16];
  snprintf(d, sizeof(d), "%d", days);
  snprintf(b, sizeof(b), "%d", batch);
  const char *params[] = {d, b};
  PGresult *res = NULL;
  *n = 0;
  if (what < 0 || what >= (int)(sizeof(purge_sql) / sizeof(purge_sql[0]))) {
    return H_ERR_INVALID;
  }
  h_result r = h_db_exec(conn, purge_sql[what], 2, params, &res);
  if (r == H_OK) {
    *n = atol(PQcmdTuples(res));
    PQclear(res);
  }
  return r;
}

/* reconcile_repo.c - SQL of reconciliation. */
#include "reconcile/reconcile_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "notifications/outbox.h"

/* Only the two tables the callers name; anything else is a programming error. */
static const char *table_of(const char *table) {
  return strcmp(table, "refunds") == 0 ? "refunds" : "payments";
}

/* The statement head + table + tail for payments or refunds. */
#define BY_TABLE(table, head, tail) \
  (strcmp(table_of(table), "refunds") == 0 ? head "refunds" tail : head "payments" tail)

static h_result exec_id(PGconn *conn, const char *sql, int n, const char *const *params) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r == H_OK) {
    r = atol(PQcmdTuples(res)) > 0 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_repo_sync_attempts(PGconn *conn, const char *table, const char *id,
                                        int *attempts) {
  const char *sql = BY_TABLE(table, "SELECT sync_attempts FROM ", " WHERE id = $1::uuid");
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, 1, params, &res);
  if (r == H_OK) {
    r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
    *attempts = r == H_OK ? atoi(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
  }
  return r;
}

h_result h_reconcile_repo_schedule(PGconn *conn, const char *table, const char *id, int attempts,
                                   int delay_s) {
  char a[16], d[16];
  snprintf(a, sizeof(a), "%d", attempts);
  snprintf(d, sizeof(d), "%d", delay_s);
  const char *params[] = {id, a, d};
  return exec_id(conn,
                 BY_TABLE(table, "UPDATE ", " SET sync_attempts = $2::int,"
                          " next_sync_at = now() + make_interval(secs => $3::int)"
                          " WHERE id = $1::uuid"),
                 3, params);
}

h_result h_reconcile_repo_mark_review(PGconn *conn, const char *table, const char *id) {
  const char *params[] = {id};
  return exec_id(conn,
                 BY_TABLE(table, "UPDATE ", " SET needs_review = true, next_sync_at = NULL,"
                          " sync_attempts = sync_attempts + 1 WHERE id = $1::uuid"),
                 1, params);
}

h_result h_reconcile_repo_settled(PGconn *conn, const char *table, const char *id) {
  const char *params[] = {id};
  return exec_id(conn,
                 BY_TABLE(table, "UPDATE ", " SET sync_attempts = 0, next_sync_at = NULL"
                          " WHERE id = $1::uuid"),
                 1, params);
}

h_result h_reconcile_repo_claim_due(PGconn *conn, char table[16], char id[37]) {
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH p AS (UPDATE payments SET next_sync_at = now() + interval '10 minutes'"
      "  WHERE id = (SELECT id FROM payments WHERE NOT needs_review"
      "    AND (status IN ('processing', 'requires_action') OR needs_reconciliation)"
      "    AND coalesce(next_sync_at, updated_at + interval '60 seconds') <= now()"
      "    ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING 'payments', id::text),"
      " f AS (UPDATE refunds SET next_sync_at = now() + interval '10 minutes'"
      "  WHERE NOT EXISTS (SELECT 1 FROM p) AND id = (SELECT id FROM refunds WHERE NOT needs_review"
      "    AND (status IN ('pending', 'requires_action') OR needs_reconciliation)"
      "    AND coalesce(next_sync_at, updated_at + interval '60 seconds') <= now()"
      "    ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING 'refunds', id::text)"
      " SELECT * FROM p UNION ALL SELECT * FROM f",
      0, NULL, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) > 0 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    snprintf(table, 16, "%s", PQgetvalue(res, 0, 0));
    snprintf(id, 37, "%s", PQgetvalue(res, 0, 1));
  }
  PQclear(res);
  return r;
}

h_result h_reconcile_repo_notify_admins(PGconn *conn, const char *template_key, const char *title,
                                        const char *body, json_t *ids) {
  json_t *data = json_pack("{ss}", "kind", template_key);
  h_result r = h_outbox_email_admins(conn, "billing", template_key, title, body, data, ids);
  json_decref(data);
  return r;
}

h_result h_reconcile_repo_payment_metadata(PGconn *conn, const char *id, json_t **out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "SELECT metadata::text FROM payments WHERE id = $1::uuid", 1,
                         params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  *out = r == H_OK ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
  PQclear(res);
  return r;
}

h_result h_reconcile_repo_refund_source(PGconn *conn, const char *id,
                                        struct h_reconcile_refund_src *out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT coalesce(f.provider_refund_id, ''),"
                         " coalesce(p.provider_reference, p.provider_payment_intent_id, ''),"
                         " coalesce(f.reason, ''), f.amount, p.provider"
                         " FROM refunds f JOIN payments p ON p.id = f.payment_id"
                         " WHERE f.id = $1::uuid",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    snprintf(out->provider_refund_id, sizeof(out->provider_refund_id), "%s",
             PQgetvalue(res, 0, 0));
    snprintf(out->pi_id, sizeof(out->pi_id), "%s", PQgetvalue(res, 0, 1));
    snprintf(out->reason, sizeof(out->reason), "%s", PQgetvalue(res, 0, 2));
    out->amount = atoll(PQgetvalue(res, 0, 3));
    snprintf(out->provider, sizeof(out->provider), "%s", PQgetvalue(res, 0, 4));
  }
  PQclear(res);
  return r;
}

/* Rows of one side as an object keyed by column 0. */
static json_t *keyed(const PGresult *res) {
  json_t *obj = json_object();
  for (int i = 0; i < PQntuples(res); i++) {
    json_object_set_new(obj, PQgetvalue(res, i, 0), json_pack("{sssIssssssss?sI}",
        "id", PQgetvalue(res, i, 1), "amount", (json_int_t)atoll(PQgetvalue(res, i, 2)),
        "currency", PQgetvalue(res, i, 3), "status", PQgetvalue(res, i, 4),
        "provider_id", PQgetvalue(res, i, 0),
        "payment_id", PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
        "created", (json_int_t)atoll(PQgetvalue(res, i, 6))));
  }
  return obj;
}

h_result h_reconcile_repo_local(PGconn *conn, const char *provider, time_t since, time_t until,
                                json_t **out) {
  char s[24], u[24];
  snprintf(s, sizeof(s), "%lld", (long long)since);
  snprintf(u, sizeof(u), "%lld", (long long)until);
  const char *params[] = {s, u, provider};
  PGresult *pay = NULL, *ref = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT coalesce(provider_payment_intent_id, id::text), id::text, amount,"
                         " currency, CASE status WHEN 'disputed' THEN 'succeeded' ELSE status END,"
                         " NULL, extract(epoch FROM created_at)::bigint"
                         " FROM payments"
                         " WHERE created_at >= to_timestamp($1::bigint)"
                         "   AND created_at < to_timestamp($2::bigint)"
                         "   AND (status IN ('succeeded', 'disputed')"
                         "        OR provider_payment_intent_id IS NOT NULL)"
                         "   AND provider = $3",
                         3, params, &pay);
  if (r == H_OK) {
    r = h_db_exec(conn,
                  "SELECT coalesce(provider_refund_id, id::text), id::text, amount, currency,"
                  " status, payment_id::text, extract(epoch FROM created_at)::bigint"
                  " FROM refunds r"
                  " WHERE created_at >= to_timestamp($1::bigint)"
                  "   AND created_at < to_timestamp($2::bigint)"
                  "   AND (status = 'succeeded' OR provider_refund_id IS NOT NULL)"
                  "   AND (SELECT provider FROM payments p WHERE p.id = r.payment_id) = $3",
                  3, params, &ref);
  }
  if (r == H_OK) {
    *out = json_pack("{soso}", "payments", keyed(pay), "refunds", keyed(ref));
  }
  PQclear(pay);
  PQclear(ref);
  return r;
}

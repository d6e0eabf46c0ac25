/* dispute_repo.c - disputes in PostgreSQL. */
#include "payments/dispute_repo.h"

#include <stdio.h>
#include <string.h>

#include "notifications/outbox.h"
#include "store/db.h"

#define DISPUTE_FIELDS "id::text, payment_id::text, provider_dispute_id, status"

#define DISPUTE_JSON                                                                         \
  "'dispute' AS object, d.id::text AS id, d.payment_id::text AS payment_id,"                 \
  " d.provider, d.provider_dispute_id, d.amount, d.currency, d.reason, d.status,"           \
  " " H_SQL_TS("d.evidence_due_by") " AS evidence_due_by,"                                    \
  " d.evidence_text IS NOT NULL AS has_evidence, d.evidence_text,"                            \
  " " H_SQL_TS("d.evidence_submitted_at") " AS evidence_submitted_at,"                        \
  " " H_SQL_TS("d.closed_at") " AS closed_at, " H_SQL_TS("d.created_at") " AS created_at,"   \
  " " H_SQL_TS("d.updated_at") " AS updated_at"

/* Reads the DISPUTE_FIELDS row of res into out. */
static void read_row(const PGresult *res, struct h_dispute *out) {
  snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
  snprintf(out->payment_id, sizeof(out->payment_id), "%s", PQgetvalue(res, 0, 1));
  snprintf(out->provider_id, sizeof(out->provider_id), "%s", PQgetvalue(res, 0, 2));
  snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 3));
}

/* Runs a one-row DISPUTE_FIELDS query into out. */
static h_result one_dispute(PGconn *conn, const char *sql, int n, const char *const *params,
                            struct h_dispute *out) {
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn, sql, n, params, &res);
  if (r == H_OK) {
    read_row(res, out);
    PQclear(res);
  }
  return r;
}

/* The provider's numbers as text parameters. */
struct dispute_params {
  char amount[24];
  char due[24];
};

static void params_of(const struct h_provider_dispute *d, struct dispute_params *p) {
  snprintf(p->amount, sizeof(p->amount), "%lld", d->amount);
  snprintf(p->due, sizeof(p->due), "%lld", d->evidence_due_by);
}

h_result h_dispute_repo_upsert(PGconn *conn, const char *payment_id,
                               const struct h_provider_dispute *d, struct h_dispute *out,
                               bool *created) {
  struct dispute_params p;
  params_of(d, &p);
  const char *params[] = {payment_id, d->id, p.amount, d->currency, d->reason, d->status,
                          d->evidence_due_by > 0 ? p.due : NULL};
  h_result r = one_dispute(conn,
                           "INSERT INTO disputes (payment_id, provider_dispute_id, amount,"
                           " currency, reason, status, evidence_due_by, closed_at)"
                           " VALUES ($1::uuid, $2, $3::bigint, $4, $5, $6,"
                           " to_timestamp($7::bigint), CASE WHEN $6 IN ('won', 'lost',"
                           " 'warning_closed') THEN now() END)"
                           " ON CONFLICT (provider_dispute_id) DO NOTHING"
                           " RETURNING " DISPUTE_FIELDS,
                           7, params, out);
  *created = r == H_OK;
  if (r != H_ERR_NOT_FOUND) {
    return r;
  }
  return one_dispute(conn,
                     "SELECT " DISPUTE_FIELDS " FROM disputes WHERE provider_dispute_id = $1"
                     " FOR UPDATE",
                     1, params + 1, out);
}

h_result h_dispute_repo_lock(PGconn *conn, const char *id, struct h_dispute *out) {
  const char *params[] = {id};
  return one_dispute(conn, "SELECT " DISPUTE_FIELDS " FROM disputes WHERE id = $1::uuid FOR UPDATE",
                     1, params, out);
}

h_result h_dispute_repo_apply(PGconn *conn, const char *id, const struct h_provider_dispute *d) {
  struct dispute_params p;
  params_of(d, &p);
  const char *params[] = {id, d->status, p.amount, d->reason, d->evidence_due_by > 0 ? p.due : NULL};
  return h_db_exec(conn,
                   "UPDATE disputes SET status = $2, amount = $3::bigint, reason = $4,"
                   " evidence_due_by = COALESCE(to_timestamp($5::bigint), evidence_due_by),"
                   " closed_at = CASE WHEN $2 IN ('won', 'lost', 'warning_closed')"
                   "   THEN COALESCE(closed_at, now()) END, updated_at = now()"
                   " WHERE id = $1::uuid",
                   5, params, NULL);
}

h_result h_dispute_repo_evidence(PGconn *conn, const char *id, const char *text,
                                 const char *admin_id) {
  const char *params[] = {id, text, admin_id};
  return h_db_exec(conn,
                   "UPDATE disputes SET evidence_text = $2, evidence_submitted_at = now(),"
                   " evidence_submitted_by = $3::uuid, updated_at = now() WHERE id = $1::uuid",
                   3, params, NULL);
}

h_result h_dispute_repo_get_json(PGconn *conn, const char *id, json_t **out) {
  const char *params[] = {id};
  return h_db_one(conn, "SELECT " DISPUTE_JSON " FROM disputes d WHERE d.id = $1::uuid", 1,
                  params, out);
}

h_result h_dispute_repo_list(PGconn *conn, const struct h_page *page, const char *status,
                             json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {page->starting_after, status, limit};
  return h_db_page(conn,
                   "SELECT " DISPUTE_JSON " FROM disputes d"
                   " WHERE ($1::uuid IS NULL OR (d.created_at, d.id) < (SELECT created_at, id"
                   "   FROM disputes WHERE id = $1::uuid))"
                   "   AND ($2::text IS NULL OR d.status = $2)"
                   " ORDER BY d.created_at DESC, d.id DESC LIMIT $3::int",
                   3, params, page->limit, data, has_more);
}

h_result h_dispute_repo_period(PGconn *conn, time_t since, time_t until, json_t **out) {
  char s[24], u[24];
  snprintf(s, sizeof(s), "%lld", (long long)since);
  snprintf(u, sizeof(u), "%lld", (long long)until);
  const char *params[] = {s, u};
  return h_db_one(conn,
                  "SELECT count(*) FILTER (WHERE created_at >= to_timestamp($1::bigint)"
                  "   AND created_at < to_timestamp($2::bigint))::int AS opened,"
                  " count(*) FILTER (WHERE status = 'won' AND in_period)::int AS won,"
                  " count(*) FILTER (WHERE status = 'lost' AND in_period)::int AS lost,"
                  " COALESCE(sum(amount) FILTER (WHERE status = 'lost' AND in_period), 0)::int8"
                  "   AS lost_amount"
                  " FROM (SELECT *, closed_at >= to_timestamp($1::bigint)"
                  "   AND closed_at < to_timestamp($2::bigint) AS in_period FROM disputes) d",
                  2, params, out);
}

h_result h_dispute_repo_notify_admins(PGconn *conn, const char *dispute_id,
                                      const char *template_key, const char *title,
                                      const char *body, json_t *ids) {
  json_t *data = json_pack("{ss}", "dispute_id", dispute_id);
  h_result r = h_outbox_email_admins(conn, "billing", template_key, title, body, data, ids);
  json_decref(data);
  return r;
}

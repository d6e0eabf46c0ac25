/* plan_repo.c - subscription plans in PostgreSQL. */
#include "billing/plan_repo.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"

#define PLAN_JSON                                                                           \
  "'plan' AS object, p.id::text AS id, p.name, p.amount, p.currency, p.interval,"           \
  " p.interval_count, p.trial_days, p.active, p.provider, p.provider_product_id,"           \
  " p.provider_price_id, " H_SQL_TS("p.created_at") " AS created_at,"                       \
  " " H_SQL_TS("p.updated_at") " AS updated_at"

h_result h_plan_repo_insert(PGconn *conn, const struct h_plan_new *in) {
  char amount[24], count[12], trial[12];
  snprintf(amount, sizeof(amount), "%lld", in->amount);
  snprintf(count, sizeof(count), "%d", in->interval_count);
  snprintf(trial, sizeof(trial), "%d", in->trial_days);
  const char *params[] = {in->id,  in->name,  amount,      in->currency, in->interval,
                          count,   trial,     in->product, in->price};
  return h_db_exec(conn,
                   "INSERT INTO billing_plans (id, name, amount, currency, interval,"
                   " interval_count, trial_days, provider_product_id, provider_price_id)"
                   " VALUES ($1::uuid, $2, $3::bigint, $4, $5, $6::int, $7::int, $8, $9)",
                   9, params, NULL);
}

h_result h_plan_repo_get(PGconn *conn, const char *id, bool lock, struct h_plan *out) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn,
                             lock ? "SELECT id::text, currency, coalesce(provider_price_id, ''),"
                                    " coalesce(provider_product_id, ''), trial_days, active"
                                    " FROM billing_plans WHERE id = $1::uuid FOR UPDATE"
                                  : "SELECT id::text, currency, coalesce(provider_price_id, ''),"
                                    " coalesce(provider_product_id, ''), trial_days, active"
                                    " FROM billing_plans WHERE id = $1::uuid",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->currency, sizeof(out->currency), "%s", PQgetvalue(res, 0, 1));
    snprintf(out->price, sizeof(out->price), "%s", PQgetvalue(res, 0, 2));
    snprintf(out->product, sizeof(out->product), "%s", PQgetvalue(res, 0, 3));
    out->trial_days = atoi(PQgetvalue(res, 0, 4));
    out->active = PQgetvalue(res, 0, 5)[0] == 't';
    PQclear(res);
  }
  return r;
}

h_result h_plan_repo_by_price(PGconn *conn, const char *price, char plan_id[37]) {
  const char *params[] = {price};
  PGresult *res = NULL;
  h_result r = h_db_exec_row(conn, "SELECT id::text FROM billing_plans WHERE provider_price_id = $1",
                             1, params, &res);
  if (r == H_OK) {
    snprintf(plan_id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_plan_repo_update(PGconn *conn, const char *id, const char *name, int trial_days,
                            int active) {
  char trial[12], act[8];
  snprintf(trial, sizeof(trial), "%d", trial_days);
  snprintf(act, sizeof(act), "%s", active ? "true" : "false");
  const char *params[] = {id, name, trial_days >= 0 ? trial : NULL, active >= 0 ? act : NULL};
  return h_db_exec(conn,
                   "UPDATE billing_plans SET name = COALESCE($2, name),"
                   " trial_days = COALESCE($3::int, trial_days),"
                   " active = COALESCE($4::boolean, active), updated_at = now()"
                   " WHERE id = $1::uuid",
                   4, params, NULL);
}

h_result h_plan_repo_get_json(PGconn *conn, const char *id, json_t **out) {
  const char *params[] = {id};
  return h_db_one(conn, "SELECT " PLAN_JSON " FROM billing_plans p WHERE p.id = $1::uuid", 1,
                  params, out);
}

h_result h_plan_repo_list(PGconn *conn, const struct h_page *page, bool active_only,
                          json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {page->starting_after, active_only ? "t" : "f", limit};
  return h_db_page(conn,
                   "SELECT " PLAN_JSON " FROM billing_plans p"
                   " WHERE ($1::uuid IS NULL OR (p.created_at, p.id) < (SELECT created_at, id"
                   "   FROM billing_plans WHERE id = $1::uuid))"
                   "   AND (NOT $2::boolean OR p.active)"
                   " ORDER BY p.created_at DESC, p.id DESC LIMIT $3::int",
                   3, params, page->limit, data, has_more);
}

/* payment_method_repo.c - SQL for the payment_methods table. */
#include "payments/payment_method_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define PM_JSON                                                                           \
  "id, 'payment_method' AS object, type, jsonb_build_object('brand', brand, 'last4',"     \
  " last4, 'exp_month', exp_month, 'exp_year', exp_year) AS card, is_default,"             \
  " provider_payment_method_id, " H_SQL_TS("created_at") " AS created_at, "                \
  H_SQL_TS("updated_at") " AS updated_at"

/* Runs a statement returning at most one PM_JSON row into *out. */
static h_result one_json(PGconn *conn, const char *sql, int n, const char *const *params,
                         json_t **out) {
  PGresult *res = NULL;
  if (out != NULL) {
    *out = NULL;
  }
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = PQntuples(res) >= 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK && out != NULL) {
    *out = h_db_row_json(res, 0);
  }
  PQclear(res);
  return r;
}

h_result h_payment_method_repo_insert(PGconn *conn, const char *id, const char *user_id,
                                      const struct h_provider_method *pm, json_t **out) {
  char month[16], year[16];
  snprintf(month, sizeof(month), "%d", pm->exp_month);
  snprintf(year, sizeof(year), "%d", pm->exp_year);
  const char *params[] = {id, user_id, pm->id, pm->type[0] != '\0' ? pm->type : "card",
                          pm->brand, pm->last4, month, year};
  return one_json(conn,
                  "INSERT INTO payment_methods (id, user_id, provider_payment_method_id, type,"
                  " brand, last4, exp_month, exp_year, is_default)"
                  " VALUES ($1::uuid, $2::uuid, $3, $4, NULLIF($5, ''), NULLIF($6, ''),"
                  " NULLIF($7, '0')::int, NULLIF($8, '0')::int, NOT EXISTS (SELECT 1 FROM"
                  " payment_methods WHERE user_id = $2::uuid AND is_default))"
                  " RETURNING " PM_JSON,
                  8, params, out);
}

static h_result one_saved(PGconn *conn, const char *sql, int n, const char *const *params,
                          struct h_saved_pm *out) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r != H_OK) {
    return r;
  }
  memset(out, 0, sizeof(*out));
  r = PQntuples(res) == 1 ? H_OK : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
    snprintf(out->provider_id, sizeof(out->provider_id), "%s", PQgetvalue(res, 0, 1));
    out->is_default = PQgetvalue(res, 0, 2)[0] == 't';
  }
  PQclear(res);
  return r;
}

h_result h_payment_method_repo_get(PGconn *conn, const char *id, const char *user_id,
                                   struct h_saved_pm *out) {
  const char *params[] = {id, user_id};
  return one_saved(conn,
                   "SELECT id, provider_payment_method_id, is_default FROM payment_methods"
                   " WHERE id = $1::uuid AND user_id = $2::uuid",
                   2, params, out);
}

h_result h_payment_method_repo_default(PGconn *conn, const char *user_id, struct h_saved_pm *out) {
  const char *params[] = {user_id};
  return one_saved(conn,
                   "SELECT id, provider_payment_method_id, is_default FROM payment_methods"
                   " WHERE user_id = $1::uuid AND is_default",
                   1, params, out);
}

h_result h_payment_method_repo_delete(PGconn *conn, const char *id, const char *user_id) {
  const char *params[] = {id, user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "DELETE FROM payment_methods WHERE id = $1::uuid AND user_id = $2::uuid"
                         " RETURNING is_default",
                         2, params, &res);
  if (r != H_OK) {
    return r;
  }
  bool found = PQntuples(res) == 1;
  bool was_default = found && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!found) {
    return H_ERR_NOT_FOUND;
  }
  if (!was_default) {
    return H_OK;
  }
  return h_db_exec(conn,
                   "UPDATE payment_methods SET is_default = true, updated_at = now()"
                   " WHERE id = (SELECT id FROM payment_methods WHERE user_id = $1::uuid"
                   " ORDER BY created_at DESC, id DESC LIMIT 1)",
                   1, params + 1, NULL);
}

h_result h_payment_method_repo_set_default(PGconn *conn, const char *id, const char *user_id,
                                           json_t **out) {
  const char *params[] = {id, user_id};
  h_result r = h_db_exec(conn,
                         "UPDATE payment_methods SET is_default = false, updated_at = now()"
                         " WHERE user_id = $2::uuid AND is_default AND id <> $1::uuid",
                         2, params, NULL);
  if (r != H_OK) {
    return r;
  }
  return one_json(conn,
                  "UPDATE payment_methods SET is_default = true, updated_at = now()"
                  " WHERE id = $1::uuid AND user_id = $2::uuid RETURNING " PM_JSON,
                  2, params, out);
}

h_result h_payment_method_repo_get_json(PGconn *conn, const char *id, const char *user_id,
                                        json_t **out) {
  const char *params[] = {id, user_id};
  return one_json(conn,
                  "SELECT " PM_JSON " FROM payment_methods WHERE id = $1::uuid"
                  " AND user_id = $2::uuid",
                  2, params, out);
}

h_result h_payment_method_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                                    json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {user_id, page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " PM_JSON " FROM payment_methods m WHERE m.user_id = $1::uuid"
                         "   AND ($2::uuid IS NULL OR (m.created_at, m.id) < (SELECT created_at,"
                         "        id FROM payment_methods WHERE id = $2::uuid"
                         "        AND user_id = $1::uuid))"
                         " ORDER BY m.created_at DESC, m.id DESC LIMIT $3::int",
                         3, params, page->limit, data, has_more);
}

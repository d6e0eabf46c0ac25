/* privacy_repo.c - SQL of the account export and erasure, one statement per kind of data. */
#include "users/privacy_repo.h"

#include <stdbool.h>
#include <stddef.h>

#include "notifications/notification_repo.h"
#include "store/db.h"

/* One member of the export: the rows of sql ($1 = the user id), as an array, or as the only
 * row (null when none) when single. */
struct part {
  const char *key;
  bool single;
  const char *sql;
};

static const struct part parts[] = {
  {"preferences", true,
   "SELECT channels, categories, quiet_enabled, quiet_start, quiet_end, quiet_timezone, "
   H_SQL_TS("updated_at") " AS updated_at FROM notification_preferences WHERE user_id = $1::uuid"},
  {"devices", false,
   "SELECT id, platform, '...' || right(token, 6) AS token_hint, app_version, active, "
   H_SQL_TS("last_seen_at") " AS last_seen_at, " H_SQL_TS("created_at") " AS created_at"
   " FROM devices WHERE user_id = $1::uuid ORDER BY created_at, id"},
  {"notifications", false,
   "SELECT id, category, priority, template_key, title,"
   " CASE WHEN sensitive THEN NULL ELSE body END AS body,"
   " CASE WHEN sensitive THEN '{}'::jsonb ELSE data END AS data,"
   " CASE WHEN sensitive THEN NULL ELSE action_url END AS action_url, "
   H_SQL_TS("send_at") " AS send_at, " H_SQL_TS("created_at") " AS created_at, "
   H_SQL_TS("read_at") " AS read_at, " H_SQL_TS("deleted_at") " AS deleted_at"
   " FROM notifications WHERE" H_NOTIF_OF_USER("$1::uuid") " ORDER BY created_at, id"},
  {"deliveries", false,
   "SELECT id, notification_id, channel, status, reason, attempts, provider, "
   H_SQL_TS("sent_at") " AS sent_at, " H_SQL_TS("created_at") " AS created_at, "
   H_SQL_TS("updated_at") " AS updated_at FROM deliveries WHERE user_id = $1::uuid"
   " ORDER BY created_at, id"},
  {"payments", false,
   "SELECT id, payment_type, amount, currency, description, metadata, status,"
   " amount_refunded, cancellation_reason, " H_SQL_TS("created_at") " AS created_at, "
   H_SQL_TS("succeeded_at") " AS succeeded_at, " H_SQL_TS("canceled_at") " AS canceled_at"
   " FROM payments WHERE user_id = $1::uuid ORDER BY created_at, id"},
  {"refunds", false,
   "SELECT r.id, r.payment_id, r.amount, r.currency, r.reason, r.status, "
   H_SQL_TS("r.created_at") " AS created_at FROM refunds r JOIN payments p ON p.id = r.payment_id"
   " WHERE p.user_id = $1::uuid ORDER BY r.created_at, r.id"},
  {"payment_methods", false,
   "SELECT id, type, brand, last4, exp_month, exp_year, is_default, "
   H_SQL_TS("created_at") " AS created_at FROM payment_methods WHERE user_id = $1::uuid"
   " ORDER BY created_at, id"},
  {"payment_customer", true,
   "SELECT provider, provider_customer_id, " H_SQL_TS("created_at") " AS created_at"
   " FROM payment_customers WHERE user_id = $1::uuid"},
  {"sessions", false,
   "SELECT family_id AS id, (array_agg(ip ORDER BY created_at))[1] AS ip, "
   H_SQL_TS("min(created_at)") " AS created_at, " H_SQL_TS("max(created_at)")
   " AS last_used_at, " H_SQL_TS("max(expires_at)") " AS expires_at,"
   " bool_or(revoked_at IS NOT NULL) AS revoked FROM refresh_tokens WHERE user_id = $1::uuid"
   " GROUP BY family_id ORDER BY min(created_at), family_id"},
  {"one_time_tokens", false,
   "SELECT kind, " H_SQL_TS("created_at") " AS created_at, " H_SQL_TS("expires_at")
   " AS expires_at, " H_SQL_TS("used_at") " AS used_at FROM one_time_tokens"
   " WHERE user_id = $1::uuid ORDER BY created_at, id"},
  {"api_keys_created", false,
   "SELECT id, name, prefix, " H_SQL_TS("created_at") " AS created_at, "
   H_SQL_TS("revoked_at") " AS revoked_at FROM api_keys WHERE created_by = $1::uuid"
   " ORDER BY created_at, id"},
  {"audit_log", false,
   "SELECT action, target_type, target_id, ip, " H_SQL_TS("created_at") " AS created_at"
   " FROM audit_log WHERE actor_id = $1::uuid OR (target_type = 'user' AND target_id = $1::text)"
   " ORDER BY created_at, id"},
};

h_result h_privacy_repo_export(PGconn *conn, const char *user_id, json_t *doc) {
  const char *params[] = {user_id};
  h_result r = H_OK;
  for (size_t i = 0; r == H_OK && i < sizeof(parts) / sizeof(parts[0]); i++) {
    PGresult *res = NULL;
    r = h_db_exec(conn, parts[i].sql, 1, params, &res);
    if (r != H_OK) {
      break;
    }
    json_t *value = !parts[i].single ? h_db_rows_json(res, PQntuples(res))
                    : PQntuples(res) > 0 ? h_db_row_json(res, 0)
                                         : json_null();
    json_object_set_new(doc, parts[i].key, value);
    PQclear(res);
  }
  return r;
}

/* In order: the provider events are found through rows deleted further down. */
static const char *const erase_sql[] = {
  "UPDATE payment_events SET payload = jsonb_build_object('id', payload->'id', 'type',"
  " payload->'type', 'erased', true) WHERE object_id IN ("
  " SELECT provider_payment_intent_id FROM payments WHERE user_id = $1::uuid"
  " UNION SELECT r.provider_refund_id FROM refunds r JOIN payments p ON p.id = r.payment_id"
  "  WHERE p.user_id = $1::uuid"
  " UNION SELECT provider_payment_method_id FROM payment_methods WHERE user_id = $1::uuid"
  " UNION SELECT provider_customer_id FROM payment_customers WHERE user_id = $1::uuid)",
  "UPDATE payments SET description = NULL, metadata = '{}'::jsonb, client_secret = NULL,"
  " payment_method = NULL, last_payment_error = NULL, idempotency_key = NULL,"
  " request_hash = NULL, updated_at = now() WHERE user_id = $1::uuid",
  "DELETE FROM payment_methods WHERE user_id = $1::uuid",
  "DELETE FROM payment_customers WHERE user_id = $1::uuid",
  "DELETE FROM notifications WHERE" H_NOTIF_OF_USER("$1::uuid"),
  "DELETE FROM deliveries WHERE user_id = $1::uuid",
  "DELETE FROM devices WHERE user_id = $1::uuid",
  "DELETE FROM notification_preferences WHERE user_id = $1::uuid",
  "DELETE FROM one_time_tokens WHERE user_id = $1::uuid",
  "DELETE FROM refresh_tokens WHERE user_id = $1::uuid",
  "DELETE FROM idempotency_keys WHERE caller = 'user:' || $1",
  "UPDATE audit_log SET ip = NULL, details = '{}'::jsonb"
  " WHERE actor_id = $1::uuid OR (target_type = 'user' AND target_id = $1::text)",
};

size_t h_privacy_repo_statements(const char **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++, n++) {
    if (n < max) {
      out[n] = parts[i].sql;
    }
  }
  for (size_t i = 0; i < sizeof(erase_sql) / sizeof(erase_sql[0]); i++, n++) {
    if (n < max) {
      out[n] = erase_sql[i];
    }
  }
  return n;
}

h_result h_privacy_repo_erase(PGconn *conn, const char *user_id) {
  const char *params[] = {user_id};
  h_result r = H_OK;
  for (size_t i = 0; r == H_OK && i < sizeof(erase_sql) / sizeof(erase_sql[0]); i++) {
    r = h_db_exec(conn, erase_sql[i], 1, params, NULL);
  }
  return r;
}

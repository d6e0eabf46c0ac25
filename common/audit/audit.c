/* audit.c - writing and reading audit_log rows. */
#include "audit/audit.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"
#include "core/page.h"

h_result h_audit_write(PGconn *conn, const struct h_actor *actor, const char *action,
                       const char *target_type, const char *target_id, const json_t *details,
                       bool security) {
  char *json = details != NULL ? json_dumps(details, JSON_COMPACT) : h_strdup("{}");
  const char *params[] = {actor->id, actor->type, action, target_type, target_id,
                          actor->ip,  actor->request_id, json};
  h_result r = h_db_exec(conn,
                         "INSERT INTO audit_log (actor_id, actor_type, action, target_type,"
                         " target_id, ip, request_id, details)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
                         8, params, NULL);
  if (r == H_OK) {
    h_log(security ? H_LOG_WARNING : H_LOG_INFO, security ? "security" : "event",
          actor->request_id, "%s %s %s by %s %s from %s", action, target_type ? target_type : "-",
          target_id ? target_id : "-", actor->type, actor->id ? actor->id : "anonymous",
          actor->ip ? actor->ip : "-");
  }
  free(json);
  return r;
}

void h_audit_log_events(const struct h_audit_entry *entries, int n) {
  for (int i = 0; i < n; i++) {
    const struct h_actor *a = entries[i].actor;
    h_log(H_LOG_INFO, "event", a->request_id, "%s %s %s by %s %s from %s", entries[i].action,
          entries[i].target_type ? entries[i].target_type : "-",
          entries[i].target_id ? entries[i].target_id : "-", a->type,
          a->id ? a->id : "anonymous", a->ip ? a->ip : "-");
  }
}

h_result h_audit_list(struct h_app *app, const struct h_audit_filter *f,
                      const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {f->actor_id,         f->action, f->target_id, f->created_gte,
                          f->created_lte, page->starting_after, limit};
  PGconn *conn = NULL;
  PGresult *res = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_db_exec(conn,
                  "SELECT id, 'audit_log_entry' AS object, actor_id, actor_type, action,"
                  " target_type, target_id, ip, request_id, details, " H_SQL_TS("created_at")
                  " AS created_at FROM audit_log"
                  " WHERE ($1::uuid IS NULL OR actor_id = $1::uuid)"
                  "   AND ($2::text IS NULL OR action = $2)"
                  "   AND ($3::text IS NULL OR target_id = $3)"
                  "   AND ($4::timestamptz IS NULL OR created_at >= $4::timestamptz)"
                  "   AND ($5::timestamptz IS NULL OR created_at <= $5::timestamptz)"
                  "   AND ($6::uuid IS NULL OR (created_at, id) <"
                  "        (SELECT created_at, id FROM audit_log WHERE id = $6::uuid))"
                  " ORDER BY audit_log.created_at DESC, audit_log.id DESC LIMIT $7::int",
                  7, params, &res);
  }
  h_db_release(app->db, conn);
  if (r == H_OK) {
    *has_more = PQntuples(res) > page->limit;
    *data = h_db_rows_json(res, page->limit);
  }
  PQclear(res);
  return r;
}

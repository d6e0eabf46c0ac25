/* audit.c - audit_log rows and the admin listing. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "validate.h"

struct h_actor h_actor_of(const struct h_req *rq) {
  struct h_actor a = {
    .id = rq->authenticated ? rq->user_id : NULL,
    .type = rq->authenticated && strcmp(rq->role, "service") == 0 ? "api_key" : "user",
    .ip = rq->ip,
    .request_id = rq->request_id,
  };
  return a;
}

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

/* Sets key of obj to s unless s is NULL (SQL NULL). */
static void put_str(json_t *obj, const char *key, const char *s) {
  if (s != NULL) {
    json_object_set_new(obj, key, json_string(s));
  }
}

h_result h_audit_write_many(PGconn *conn, const struct h_audit_entry *entries, int n) {
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    const struct h_audit_entry *e = &entries[i];
    json_t *o = json_object();
    put_str(o, "actor_id", e->actor->id);
    put_str(o, "actor_type", e->actor->type);
    put_str(o, "action", e->action);
    put_str(o, "target_type", e->target_type);
    put_str(o, "target_id", e->target_id);
    put_str(o, "ip", e->actor->ip);
    put_str(o, "request_id", e->actor->request_id);
    json_object_set_new(o, "details", e->details != NULL ? json_incref((json_t *)e->details)
                                                         : json_object());
    json_array_append_new(arr, o);
  }
  char *json = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  const char *params[] = {json};
  h_result r = h_db_exec(conn, "INSERT INTO audit_log (actor_id, actor_type, action, target_type,"
                         " target_id, ip, request_id, details)"
                         " SELECT t.actor_id, t.actor_type, t.action, t.target_type, t.target_id,"
                         "   t.ip, t.request_id, t.details"
                         " FROM json_to_recordset($1::json) AS t(actor_id uuid, actor_type text,"
                         "   action text, target_type text, target_id text, ip text,"
                         "   request_id text, details jsonb)",
                         1, params, NULL);
  free(json);
  for (int i = 0; r == H_OK && i < n; i++) {
    const struct h_actor *a = entries[i].actor;
    h_log(H_LOG_INFO, "event", a->request_id, "%s %s %s by %s %s from %s", entries[i].action,
          entries[i].target_type ? entries[i].target_type : "-",
          entries[i].target_id ? entries[i].target_id : "-", a->type,
          a->id ? a->id : "anonymous", a->ip ? a->ip : "-");
  }
  return r;
}

void h_audit_list(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  const char *actor = h_req_param(rq, "actor_id");
  const char *action = h_req_param(rq, "action");
  const char *target = h_req_param(rq, "target_id");
  const char *gte = h_req_param(rq, "created_gte");
  const char *lte = h_req_param(rq, "created_lte");
  if (actor != NULL && !h_uuid_valid(actor)) {
    h_field_error(&fe, "actor_id", "invalid_id", "Must be a user or API key id.");
  }
  if (action != NULL && strlen(action) > 64) {
    h_field_error(&fe, "action", "too_long", "Must be at most 64 characters.");
  }
  if (target != NULL && strlen(target) > 128) {
    h_field_error(&fe, "target_id", "too_long", "Must be at most 128 characters.");
  }
  if (gte != NULL && !h_valid_timestamp(gte)) {
    h_field_error(&fe, "created_gte", "invalid_timestamp", "Must be an RFC 3339 timestamp.");
  }
  if (lte != NULL && !h_valid_timestamp(lte)) {
    h_field_error(&fe, "created_lte", "invalid_timestamp", "Must be an RFC 3339 timestamp.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page.limit + 1);
  const char *params[] = {actor, action, target, gte, lte, page.starting_after, limit};
  PGconn *conn = NULL;
  PGresult *res = NULL;
  h_result r = h_db_acquire(rq->app->db, &conn);
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
  h_db_release(rq->app->db, conn);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The audit log could not be read.", NULL);
    return;
  }
  bool more = PQntuples(res) > page.limit;
  h_reply_json(rq, 200, h_list_body(h_db_rows_json(res, page.limit), more));
  PQclear(res);
}

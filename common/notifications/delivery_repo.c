/* delivery_repo.c - SQL for the operators' view of deliveries. */
#include "notifications/delivery_repo.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"
#include "notifications/delivery_plan.h"

#define DELIVERY_COLUMNS                                                                    \
  "id, 'delivery' AS object, notification_id, user_id, channel, status, reason, attempts,"  \
  " " H_SQL_TS("due_at") " AS due_at, " H_SQL_TS("sent_at") " AS sent_at, provider,"        \
  " provider_message_id, provider_attempts, last_error, " H_SQL_TS("created_at")            \
  " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

static const char *const statuses[] = {"queued",   "scheduled", "processing", "sent",
                                       "failed",   "dead",      "skipped",    "held",
                                       "digest",   "digested",  "throttled",  "capped",
                                       NULL};

h_result h_delivery_repo_list(PGconn *conn, const struct h_delivery_filter *f,
                              const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {f->status,      f->channel,     f->user_id,          f->notification_id,
                          f->created_gte, f->created_lte, page->starting_after, limit};
  return h_db_page(
      conn,
      "SELECT " DELIVERY_COLUMNS " FROM deliveries"
      " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)"
      "   AND ($3::uuid IS NULL OR user_id = $3::uuid)"
      "   AND ($4::uuid IS NULL OR notification_id = $4::uuid)"
      "   AND ($5::timestamptz IS NULL OR created_at >= $5::timestamptz)"
      "   AND ($6::timestamptz IS NULL OR created_at <= $6::timestamptz)"
      "   AND ($7::uuid IS NULL OR (created_at, id) <"
      "        (SELECT created_at, id FROM deliveries WHERE id = $7::uuid))"
      " ORDER BY deliveries.created_at DESC, deliveries.id DESC LIMIT $8::int",
      8, params, page->limit, data, has_more);
}

/* {"queued":0,...} over every status (new reference). */
static json_t *zeros(void) {
  json_t *o = json_object();
  for (int i = 0; statuses[i] != NULL; i++) {
    json_object_set_new(o, statuses[i], json_integer(0));
  }
  return o;
}

static void add(json_t *counts, const char *status, json_int_t n) {
  json_t *v = json_object_get(counts, status);
  json_object_set_new(counts, status, json_integer(json_integer_value(v) + n));
}

h_result h_delivery_repo_stats(PGconn *conn, const char *since, json_t **stats) {
  const char *params[] = {since};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT channel, status, count(*) FROM deliveries"
                         " WHERE created_at >= $1::timestamptz GROUP BY channel, status",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  json_t *by_channel = json_object(), *by_status = zeros();
  for (int c = 0; c < H_CHANNEL_COUNT; c++) {
    json_object_set_new(by_channel, h_channel_name((enum h_channel)c), zeros());
  }
  json_int_t total = 0;
  for (int i = 0; i < PQntuples(res); i++) {
    json_int_t n = strtoll(PQgetvalue(res, i, 2), NULL, 10);
    add(json_object_get(by_channel, PQgetvalue(res, i, 0)), PQgetvalue(res, i, 1), n);
    add(by_status, PQgetvalue(res, i, 1), n);
    total += n;
  }
  PQclear(res);
  *stats = json_pack("{sssssIsoso}", "object", "delivery_stats", "since", since, "total", total,
                     "by_status", by_status, "by_channel", by_channel);
  return H_OK;
}

h_result h_delivery_repo_requeue(PGconn *conn, const char *id, json_t **delivery) {
  const char *params[] = {id};
  PGresult *res = NULL;
  *delivery = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH cur AS (SELECT id, status FROM deliveries WHERE id = $1::uuid FOR UPDATE),"
      " upd AS (UPDATE deliveries d SET status = 'queued', attempts = 0, recoveries = 0,"
      "   reason = NULL, due_at = now(), updated_at = now(), repushes = 0 FROM cur"
      "   WHERE d.id = cur.id AND cur.status IN ('dead', 'failed') RETURNING d.*)"
      " SELECT cur.status AS previous, upd.* FROM cur LEFT JOIN upd ON true",
      1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 0) {
    r = H_ERR_NOT_FOUND;
  } else if (PQgetisnull(res, 0, 1)) {
    r = H_ERR_CONFLICT;
  }
  PQclear(res);
  if (r == H_OK) {
    r = h_db_exec(conn, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE id = $1::uuid", 1,
                  params, &res);
  }
  if (r == H_OK) {
    *delivery = h_db_row_json(res, 0);
    PQclear(res);
  }
  return r;
}

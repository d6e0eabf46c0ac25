/* notification_repo.c - SQL for notifications and deliveries. */
#include "notifications/notification_repo.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json_text.h"
#include "core/text.h"
#include "store/db.h"
#include "store/pg_array.h"
#include "queue/jobs.h"

#define FEED_WHERE H_NOTIF_FEED_WHERE
#define FEED_COLUMNS H_NOTIF_FEED_COLUMNS

#define ADMIN_COLUMNS                                                                       \
  FEED_COLUMNS ", user_id, template_key AS template, locale,"                               \
  " CASE WHEN sensitive THEN NULL ELSE html END AS html,"                                   \
  " CASE WHEN sensitive THEN NULL ELSE rendered END AS rendered, sensitive, in_app,"        \
  " broadcast_id, " H_SQL_TS("deleted_at") " AS deleted_at"

#define DELIVERY_COLUMNS                                                                    \
  "id, 'delivery' AS object, notification_id, user_id, channel, status, reason, attempts,"  \
  " " H_SQL_TS("due_at") " AS due_at, " H_SQL_TS("sent_at") " AS sent_at, provider,"        \
  " provider_message_id, provider_attempts, last_error, endpoint_id, digest_delivery_id,"    \
  " " H_SQL_TS("created_at") " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

static void copy(char *dst, size_t n, const PGresult *res, int row, int col) {
  h_copy(dst, n, PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

/* Splits the comma-separated endpoint ids of column col of row into out. (The recipients
 * query looks endpoints up only when the table has a row: the lookup measured about 25 us
 * of PostgreSQL per send.) */
static void endpoints_of(const PGresult *res, int row, int col, struct h_recipient_row *out) {
  const char *p = PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
  while (*p != '\0' && out->nendpoints < H_WEBHOOK_TARGETS_MAX) {
    size_t len = strcspn(p, ",");
    snprintf(out->endpoints[out->nendpoints++], 37, "%.*s", (int)(len < 36 ? len : 36), p);
    p += len + (p[len] == ',');
  }
}

/* Row row of the recipients query into *out. */
static void recipient_of(const PGresult *res, int row, struct h_recipient_row *out) {
  memset(out, 0, sizeof(*out));
  out->found = PQgetvalue(res, row, 0)[0] == 't';
  if (!out->found) {
    return;
  }
  copy(out->locale, sizeof(out->locale), res, row, 1);
  out->has_phone = PQgetvalue(res, row, 2)[0] == 't';
  out->active_devices = atoi(PQgetvalue(res, row, 3));
  /* NULL: no preference set, every channel and category allowed (h_prefs_allow) */
  out->prefs = PQgetisnull(res, row, 4) ? NULL : json_loads(PQgetvalue(res, row, 4), 0, NULL);
  out->quiet_enabled = PQgetvalue(res, row, 5)[0] == 't';
  copy(out->quiet_start, sizeof(out->quiet_start), res, row, 6);
  copy(out->quiet_end, sizeof(out->quiet_end), res, row, 7);
  copy(out->quiet_tz, sizeof(out->quiet_tz), res, row, 8);
  copy(out->local_due, sizeof(out->local_due), res, row, 9);
  copy(out->due_utc, sizeof(out->due_utc), res, row, 10);
  endpoints_of(res, row, 12, out);
}

h_result h_notif_repo_recipients(PGconn *conn, const char *const *user_ids,
                                 const char *const *due_ats, const char *const *categories,
                                 const bool *devices, int n, struct h_recipient_row *out,
                                 char now[40]) {
  static const char sql[] =
      "SELECT u.id IS NOT NULL, u.locale, u.phone IS NOT NULL,"
      " CASE WHEN t.devices THEN"
      "   (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.active)::int ELSE 0 END,"
      " CASE WHEN p.channels <> '{}'::jsonb OR p.categories <> '{}'::jsonb"
      "   THEN json_build_object('channels', COALESCE(p.channels, '{}'::jsonb),"
      "   'categories', COALESCE(p.categories, '{}'::jsonb)) END,"
      " COALESCE(p.quiet_enabled, false), p.quiet_start, p.quiet_end,"
      " COALESCE(p.quiet_timezone, u.timezone),"
      " CASE WHEN p.quiet_enabled THEN to_char(COALESCE(t.due, now())"
      "   AT TIME ZONE COALESCE(p.quiet_timezone, u.timezone), 'YYYY-MM-DD HH24:MI') END,"
      " " H_SQL_TS("t.due") ","
      " CASE WHEN t.i = 1 THEN"
      "   to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END,"
      " CASE WHEN u.id IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_endpoints) THEN"
      " (SELECT string_agg(e.id::text, ',' ORDER BY e.user_id NULLS LAST, e.created_at, e.id)"
      "  FROM (SELECT id, user_id, created_at FROM webhook_endpoints w"
      "   WHERE (w.user_id = u.id OR w.user_id IS NULL) AND w.enabled"
      "     AND (w.categories IS NULL OR t.category = ANY (w.categories))"
      "   ORDER BY w.user_id NULLS LAST, w.created_at, w.id LIMIT 32) e) END"
      " FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::bool[]) WITH ORDINALITY"
      "   AS t(user_id, due, category, devices, i)"
      " LEFT JOIN users u ON u.id = t.user_id AND u.status <> 'deleted'"
      " LEFT JOIN notification_preferences p ON p.user_id = u.id"
      " ORDER BY t.i";
  /* the due times as the request gave them (a text literal), the rest binary (pg_array.h) */
  struct h_pg_array a[4] = {{.oid = H_PG_OID_UUID}, {0}, {.oid = H_PG_OID_TEXT},
                            {.oid = H_PG_OID_BOOL}};
  for (int i = 0; i < n; i++) {
    h_pg_array_add(&a[0], user_ids[i]);
    h_pg_array_add(&a[1], due_ats[i]);
    h_pg_array_add(&a[2], categories[i]);
    h_pg_array_add_bool(&a[3], devices == NULL || devices[i]);
  }
  const char *params[4];
  int lengths[4], formats[4];
  bool valid = h_pg_array_params(a, 4, params, lengths, formats);
  PGresult *res = NULL;
  /* a user id that is not a uuid: what PostgreSQL's uuid_in would have refused (22P02) */
  h_result r = valid ? h_db_exec_formats(conn, sql, 4, params, lengths, formats, &res)
                     : H_ERR_INVALID;
  for (int i = 0; i < 4; i++) {
    h_pg_array_free(&a[i]);
  }
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) != n) {
    PQclear(res);
    return H_ERR_INTERNAL;
  }
  for (int i = 0; i < n; i++) {
    recipient_of(res, i, &out[i]);
  }
  if (now != NULL && n > 0) {
    copy(now, 40, res, 0, 11);
  }
  PQclear(res);
  return H_OK;
}

h_result h_notif_repo_recipient(PGconn *conn, const char *user_id, const char *due_at,
                                struct h_recipient_row *out) {
  const char *category = NULL; /* no category: only endpoints taking every category */
  h_result r = h_notif_repo_recipients(conn, &user_id, &due_at, &category, NULL, 1, out, NULL);
  return r == H_OK && !out->found ? H_ERR_NOT_FOUND : r;
}

/* The last conversions of this thread (the committer's, the fan-out's), by (local, zone): a
 * batch of sends to recipients in one zone's quiet hours asks for the same window end again
 * and again, and the answer depends only on PostgreSQL's time-zone database. Direct-mapped;
 * a slot is overwritten by the next key that hashes to it. */
enum { TZ_SLOTS = 64 };
static _Thread_local struct {
  char local[24], zone[64], utc[32];
} tz_memo[TZ_SLOTS];

static unsigned tz_slot(const char *local, const char *zone) {
  unsigned h = 2166136261u; /* FNV-1a over both */
  for (const char *s = local; *s != '\0'; s++) {
    h = (h ^ (unsigned char)*s) * 16777619u;
  }
  for (const char *s = zone; *s != '\0'; s++) {
    h = (h ^ (unsigned char)*s) * 16777619u;
  }
  return h % TZ_SLOTS;
}

h_result h_notif_repo_local_to_utc(PGconn *conn, const char *local, const char *zone,
                                   char out[32]) {
  unsigned slot = tz_slot(local, zone);
  bool fits = strlen(local) < sizeof(tz_memo[0].local) && strlen(zone) < sizeof(tz_memo[0].zone);
  if (fits && tz_memo[slot].utc[0] != '\0' && strcmp(tz_memo[slot].local, local) == 0 &&
      strcmp(tz_memo[slot].zone, zone) == 0) {
    snprintf(out, 32, "%s", tz_memo[slot].utc);
    return H_OK;
  }
  const char *params[] = {local, zone};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "SELECT " H_SQL_TS("($1::timestamp AT TIME ZONE $2)"), 2, params,
                         &res);
  if (r == H_OK) {
    snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (fits) {
      snprintf(tz_memo[slot].local, sizeof(tz_memo[slot].local), "%s", local);
      snprintf(tz_memo[slot].zone, sizeof(tz_memo[slot].zone), "%s", zone);
      snprintf(tz_memo[slot].utc, sizeof(tz_memo[slot].utc), "%s", out);
    }
  }
  return r;
}

/* The parameters of a batch's statement ($1 is N_ID): its columns, one array per column
 * (pg_array.h), and three scalars. Everything before B_AT is all insert_sql takes;
 * insert_keys_sql takes the idempotency columns after it as well. */
enum { N_ID, N_USER, N_CATEGORY, N_PRIORITY, N_TEMPLATE, N_DATA, N_TITLE, N_BODY, N_HTML,
       N_ACTION, N_SEND_AT, N_RENDERED, N_LOCALE, N_IN_APP, N_BROADCAST, N_SYSTEM, N_PUSH,
       D_ID, D_NOTIFICATION, D_USER, D_CHANNEL, D_STATUS, D_REASON, D_DUE, D_ENDPOINT,
       A_ACTOR, A_ACTOR_TYPE, A_ACTION, A_TARGET_TYPE, A_TARGET, A_IP, A_REQUEST, A_DETAILS,
       A_ID, B_AT, K_CALLER, K_KEY, K_STATUS, K_BODY, K_NOTIFICATION, K_HASH, K_CLAIM,
       K_LOCK_S, K_TTL_S, N_COLUMNS };

/* Each column's array encoding (pg_array.h): binary, but for the two timestamps, which are
 * sent as the text the request gave (0). */
#define UUID_ H_PG_OID_UUID
#define TEXT_ H_PG_OID_TEXT
#define JSONB_ H_PG_OID_JSONB
#define BOOL_ H_PG_OID_BOOL
static const unsigned column_oid[N_COLUMNS] = {
  [N_ID] = UUID_, [N_USER] = UUID_, [N_CATEGORY] = TEXT_, [N_PRIORITY] = TEXT_,
  [N_TEMPLATE] = TEXT_, [N_DATA] = JSONB_, [N_TITLE] = TEXT_, [N_BODY] = TEXT_,
  [N_HTML] = TEXT_, [N_ACTION] = TEXT_, [N_SEND_AT] = 0, [N_RENDERED] = JSONB_,
  [N_LOCALE] = TEXT_, [N_IN_APP] = BOOL_, [N_BROADCAST] = UUID_, [N_SYSTEM] = BOOL_,
  [D_ID] = UUID_, [D_NOTIFICATION] = UUID_, [D_USER] = UUID_, [D_CHANNEL] = TEXT_,
  [D_STATUS] = TEXT_, [D_REASON] = TEXT_, [D_DUE] = 0,
  [A_ACTOR] = UUID_, [A_ACTOR_TYPE] = TEXT_, [A_ACTION] = TEXT_, [A_TARGET_TYPE] = TEXT_,
  [A_TARGET] = TEXT_, [A_IP] = TEXT_, [A_REQUEST] = TEXT_, [A_DETAILS] = JSONB_, [A_ID] = UUID_,
  [K_CALLER] = TEXT_, [K_KEY] = TEXT_, [K_STATUS] = H_PG_OID_INT4, [K_BODY] = TEXT_,
  [K_NOTIFICATION] = UUID_, [N_PUSH] = JSONB_, [D_ENDPOINT] = UUID_, [K_HASH] = TEXT_,
  [K_CLAIM] = BOOL_,
};
#undef UUID_
#undef TEXT_
#undef JSONB_
#undef BOOL_

/* Appends the JSON text of v (borrowed; NULL or neither an object nor an array:
 * empty_object ? "{}" : SQL NULL), printed in w (h_jt_value: json_dumps costs about eight
 * times as much). */
static void add_json(struct h_pg_array *a, const json_t *v, bool empty_object,
                     struct h_json_text *w) {
  if (!json_is_object(v) && !json_is_array(v)) {
    h_pg_array_add(a, empty_object ? "{}" : NULL);
    return;
  }
  h_jt_reset(w);
  h_jt_value(w, v);
  h_pg_array_add(a, w->s);
}

static void add_notifications(struct h_pg_array *c, const struct h_notification_row *rows,
                              int n) {
  struct h_json_text w;
  h_jt_init(&w, 512);
  for (int i = 0; i < n; i++) {
    const struct h_notification_row *r = &rows[i];
    h_pg_array_add(&c[N_ID], r->id);
    h_pg_array_add(&c[N_USER], r->user_id);
    h_pg_array_add(&c[N_CATEGORY], r->category);
    h_pg_array_add(&c[N_PRIORITY], r->priority);
    h_pg_array_add(&c[N_TEMPLATE], r->template_key);
    add_json(&c[N_DATA], r->data, true, &w);
    h_pg_array_add(&c[N_TITLE], r->title);
    h_pg_array_add(&c[N_BODY], r->body);
    h_pg_array_add(&c[N_HTML], r->html);
    h_pg_array_add(&c[N_ACTION], r->action_url);
    h_pg_array_add(&c[N_SEND_AT], r->send_at);
    add_json(&c[N_RENDERED], r->rendered, false, &w);
    h_pg_array_add(&c[N_LOCALE], r->locale);
    h_pg_array_add_bool(&c[N_IN_APP], r->in_app);
    h_pg_array_add(&c[N_BROADCAST], r->broadcast_id);
    h_pg_array_add_bool(&c[N_SYSTEM], r->system);
    add_json(&c[N_PUSH], r->push, false, &w);
  }
  h_jt_free(&w);
}

static void add_deliveries(struct h_pg_array *c, const struct h_delivery_row *rows, int n) {
  for (int i = 0; i < n; i++) {
    h_pg_array_add(&c[D_ID], rows[i].id);
    h_pg_array_add(&c[D_NOTIFICATION], rows[i].notification_id);
    h_pg_array_add(&c[D_USER], rows[i].user_id);
    h_pg_array_add(&c[D_CHANNEL], rows[i].channel);
    h_pg_array_add(&c[D_STATUS], rows[i].status);
    h_pg_array_add(&c[D_REASON], rows[i].reason);
    h_pg_array_add(&c[D_DUE], rows[i].due_at);
    h_pg_array_add(&c[D_ENDPOINT], rows[i].endpoint_id);
  }
}

static void add_extra(struct h_pg_array *c, const struct h_notif_extra *x) {
  for (int i = 0; x != NULL && i < x->naudit; i++) {
    const struct h_audit_entry *e = &x->audit[i];
    h_pg_array_add(&c[A_ACTOR], e->actor->id);
    h_pg_array_add(&c[A_ACTOR_TYPE], e->actor->type);
    h_pg_array_add(&c[A_ACTION], e->action);
    h_pg_array_add(&c[A_TARGET_TYPE], e->target_type);
    h_pg_array_add(&c[A_TARGET], e->target_id);
    h_pg_array_add(&c[A_IP], e->actor->ip);
    h_pg_array_add(&c[A_REQUEST], e->actor->request_id);
    h_pg_array_add(&c[A_DETAILS], e->details != NULL ? e->details : "{}");
    h_pg_array_add(&c[A_ID], e->id);
  }
  for (int i = 0; x != NULL && i < x->nidem; i++) {
    h_pg_array_add(&c[K_CALLER], x->idem[i]->caller);
    h_pg_array_add(&c[K_KEY], x->idem[i]->key);
    h_pg_array_add_long(&c[K_STATUS], (long)x->idem_status[i]);
    h_pg_array_add(&c[K_BODY], x->idem_bodies[i]);
    h_pg_array_add(&c[K_NOTIFICATION], x->idem_notification[i]);
    h_pg_array_add(&c[K_HASH], x->idem[i]->hash);
    h_pg_array_add_bool(&c[K_CLAIM], x->idem[i]->deferred);
  }
}

/* Everything of a batch in one statement: the feed locks of the in-app rows' users, in
 * order (H_NOTIF_FEED_LOCK: taken by lk, which n's WHERE reads once before its first row
 * draws an event_seq, and held to the COMMIT), the idempotency keys the statement claims
 * (kc: a key no request holds, or one HERALD_IDEMPOTENCY_LOCK_S stale, or expired, stored
 * completed with its response; kr: the sends whose key another request holds, which write
 * nothing), the notifications of live users (or system notices), the deliveries of the
 * notifications written, the audit rows and the idempotency records claimed beforehand
 * completed; returns how many notifications went in and their created_at: $35, the time the
 * batch was read at (its responses show it), or else now().
 *
 * Three statements: insert_keys_sql with the idempotency CTEs (kc, kr, k: parameters $36 to
 * $44), insert_claim_sql without k for a batch whose every key is claimed in the statement
 * (POST /api/v1/notifications defers its claim: k is for a key the API claimed first),
 * insert_sql without any for a batch that carries no Idempotency-Key (parameters $1 to
 * $35 only). Every execution of a prepared statement starts the executor of each of its
 * plan's nodes and reads each written table's CHECK constraints back, whether a CTE has rows
 * or not: the three CTEs cost a batch without a key about 370,000 instructions of
 * PostgreSQL, 7 % of what its sends cost PostgreSQL at 5.4 sends per batch (bench/README.md,
 * "Session of 2026-12-05 (twelfth)").
 *
 * The columns are unnested in a select list, (SELECT unnest($1) AS id, unnest($2) AS ...),
 * not in FROM: there each array is a function scan that copies its elements into a tuplestore
 * of its own before the first row is read; in a select list they are read in step, element by
 * element (NULLs past the end of a shorter array, as in FROM). */
#define INSERT_LOCKS                                                                        \
  "WITH lk AS (SELECT count(*) FILTER (WHERE x IS NULL) AS locks FROM (SELECT "              \
  H_NOTIF_FEED_LOCK("s.u") " IS NULL AS x FROM (SELECT DISTINCT t.u FROM"                    \
  "   (SELECT unnest($2::uuid[]) AS u, unnest($14::bool[]) AS in_app) t"                    \
  " WHERE t.in_app ORDER BY 1) s) z),"
#define INSERT_KEYS_CLAIMED                                                                 \
  " kc AS (INSERT INTO idempotency_keys AS k (caller, key, request_hash, status,"           \
  "   response_status, response_body, completed_at)"                                        \
  " SELECT t.caller, t.key, t.hash, 'completed', t.status, t.body, now()"                   \
  " FROM (SELECT unnest($36::text[]) AS caller, unnest($37::text[]) AS key,"                \
  "   unnest($38::int[]) AS status, unnest($39::text[]) AS body,"                           \
  "   unnest($40::uuid[]) AS notification_id, unnest($41::text[]) AS hash,"                 \
  "   unnest($42::bool[]) AS claim) t"                                                      \
  " JOIN (SELECT unnest($1::uuid[]) AS id, unnest($2::uuid[]) AS user_id,"                  \
  "   unnest($16::bool[]) AS system) r ON r.id = t.notification_id"                         \
  " JOIN users u ON u.id = r.user_id AND (u.status <> 'deleted' OR r.system)"               \
  " WHERE t.claim ORDER BY t.caller, t.key"                                                 \
  " ON CONFLICT (caller, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"          \
  "   status = 'completed', response_status = EXCLUDED.response_status,"                   \
  "   response_body = EXCLUDED.response_body, locked_at = now(), created_at = now(),"       \
  "   completed_at = now()"                                                                 \
  " WHERE (k.status = 'in_flight' AND k.locked_at < now() - make_interval(secs => $43::int))" \
  "    OR k.created_at < now() - make_interval(secs => $44::int)"                           \
  " RETURNING caller, key),"                                                                \
  " kr AS (SELECT t.notification_id FROM (SELECT unnest($36::text[]) AS caller,"            \
  "   unnest($37::text[]) AS key, unnest($40::uuid[]) AS notification_id,"                  \
  "   unnest($42::bool[]) AS claim) t"                                                      \
  " WHERE t.claim AND NOT EXISTS (SELECT 1 FROM kc WHERE kc.caller = t.caller"              \
  "   AND kc.key = t.key)),"
/* n, d and a; held_back: a condition on t.id, the rows n leaves out ("" for none) */
#define INSERT_ROWS(held_back)                                                              \
  " n AS (INSERT INTO notifications (id, user_id, category, priority, template_key,"        \
  "   data, title, body, html, action_url, send_at, rendered, locale, in_app, broadcast_id," \
  "   push, search, created_at)"                                                            \
  " SELECT t.id, t.user_id, t.category, t.priority, t.template_key, t.data, t.title,"       \
  "   t.body, t.html, t.action_url, t.send_at, t.rendered, t.locale, t.in_app,"             \
  "   t.broadcast_id, t.push, CASE WHEN t.in_app THEN to_tsvector(herald_ts_config(u.locale)," \
  "   COALESCE(t.title, '') || ' ' || COALESCE(t.body, '')) END,"                           \
  "   COALESCE($35::timestamptz, now())"                                                    \
  " FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::uuid[]) AS user_id,"                  \
  "   unnest($3::text[]) AS category, unnest($4::text[]) AS priority,"                      \
  "   unnest($5::text[]) AS template_key, unnest($6::jsonb[]) AS data,"                     \
  "   unnest($7::text[]) AS title, unnest($8::text[]) AS body, unnest($9::text[]) AS html," \
  "   unnest($10::text[]) AS action_url, unnest($11::timestamptz[]) AS send_at,"            \
  "   unnest($12::jsonb[]) AS rendered, unnest($13::text[]) AS locale,"                     \
  "   unnest($14::bool[]) AS in_app, unnest($15::uuid[]) AS broadcast_id,"                  \
  "   unnest($16::bool[]) AS system, unnest($17::jsonb[]) AS push) t"                       \
  " JOIN users u ON u.id = t.user_id AND (u.status <> 'deleted' OR t.system)"               \
  " WHERE (SELECT locks FROM lk) >= 0" held_back                                            \
  " RETURNING id),"                                                                         \
  " d AS (INSERT INTO deliveries (id, notification_id, user_id, channel, status, reason,"   \
  "   due_at, sent_at, endpoint_id, created_at)"                                            \
  " SELECT t.id, t.notification_id, t.user_id, t.channel, t.status, t.reason,"              \
  "   COALESCE(t.due_at, $35::timestamptz, now()),"                                         \
  "   CASE WHEN t.status = 'sent' THEN COALESCE($35::timestamptz, now()) END, t.endpoint_id," \
  "   COALESCE($35::timestamptz, now())"                                                    \
  " FROM (SELECT unnest($18::uuid[]) AS id, unnest($19::uuid[]) AS notification_id,"        \
  "   unnest($20::uuid[]) AS user_id, unnest($21::text[]) AS channel,"                      \
  "   unnest($22::text[]) AS status, unnest($23::text[]) AS reason,"                        \
  "   unnest($24::timestamptz[]) AS due_at, unnest($25::uuid[]) AS endpoint_id) t"          \
  " WHERE t.notification_id IN (SELECT id FROM n)),"                                        \
  " a AS (INSERT INTO audit_log (id, actor_id, actor_type, action, target_type, target_id," \
  "   ip, request_id, details)"                                                             \
  " SELECT t.* FROM (SELECT unnest($34::uuid[]) AS id, unnest($26::uuid[]) AS actor_id,"   \
  "   unnest($27::text[]) AS actor_type,"                                                   \
  "   unnest($28::text[]) AS action, unnest($29::text[]) AS target_type,"                   \
  "   unnest($30::text[]) AS target_id, unnest($31::text[]) AS ip,"                         \
  "   unnest($32::text[]) AS request_id, unnest($33::jsonb[]) AS details) t"                \
  " WHERE t.target_id::uuid IN (SELECT id FROM n))"
#define INSERT_KEYS_COMPLETED                                                               \
  ", k AS (UPDATE idempotency_keys k SET status = 'completed', response_status = t.status," \
  "   response_body = t.body, completed_at = now()"                                         \
  " FROM (SELECT unnest($36::text[]) AS caller, unnest($37::text[]) AS key,"                \
  "   unnest($38::int[]) AS status, unnest($39::text[]) AS body,"                           \
  "   unnest($40::uuid[]) AS notification_id, unnest($42::bool[]) AS claim) t"              \
  " WHERE k.caller = t.caller AND k.key = t.key AND NOT t.claim"                            \
  "   AND t.notification_id IN (SELECT id FROM n))"
#define INSERT_RESULT                                                                       \
  " SELECT (SELECT count(*) FROM n)::int,"                                                  \
  "   " H_SQL_TS("COALESCE($35::timestamptz, now())") ","                                   \
  "   CASE WHEN (SELECT count(*) FROM n) < cardinality($1::uuid[])"                         \
  "   THEN (SELECT array_agg(id)::text FROM n) END"

static const char insert_sql[] = INSERT_LOCKS INSERT_ROWS("") INSERT_RESULT;
#define INSERT_HELD_BACK " AND t.id NOT IN (SELECT notification_id FROM kr)"
static const char insert_claim_sql[] =
    INSERT_LOCKS INSERT_KEYS_CLAIMED INSERT_ROWS(INSERT_HELD_BACK) INSERT_RESULT;
static const char insert_keys_sql[] =
    INSERT_LOCKS INSERT_KEYS_CLAIMED INSERT_ROWS(INSERT_HELD_BACK) INSERT_KEYS_COMPLETED
    INSERT_RESULT;

struct h_notif_stmt {
  struct h_pg_array cols[N_COLUMNS];
  const char *params[N_COLUMNS];
  int lengths[N_COLUMNS], formats[N_COLUMNS];
  const char *sql;      /* insert_sql, insert_claim_sql or insert_keys_sql */
  int nparams;          /* B_AT + 1, or N_COLUMNS with the idempotency columns */
  bool valid;           /* every id is a uuid */
  int n;                /* notifications */
  char (*ids)[37];      /* theirs, in order, for the rows written */
  char created_at[40], lock_s[16], ttl_s[16];
};

struct h_notif_stmt *h_notif_stmt_build(const struct h_notification_row *rows, int n,
                                        const struct h_delivery_row *dels, int nd,
                                        const struct h_notif_extra *extra) {
  struct h_notif_stmt *st = h_calloc(1, sizeof(*st));
  for (int i = 0; i < N_COLUMNS; i++) {
    st->cols[i].oid = column_oid[i];
  }
  add_notifications(st->cols, rows, n);
  add_deliveries(st->cols, dels, nd);
  add_extra(st->cols, extra);
  st->n = n;
  st->ids = h_malloc((size_t)(n > 0 ? n : 1) * sizeof(*st->ids));
  for (int i = 0; i < n; i++) {
    h_copy(st->ids[i], sizeof(st->ids[i]), rows[i].id);
  }
  st->valid = h_pg_array_params(st->cols, B_AT, st->params, st->lengths, st->formats);
  st->sql = insert_sql;
  st->nparams = B_AT + 1;
  if (extra != NULL && extra->created_at != NULL) {
    h_copy(st->created_at, sizeof(st->created_at), extra->created_at);
    st->params[B_AT] = st->created_at;
  }
  if (extra != NULL && extra->nidem > 0) {
    st->valid = h_pg_array_params(&st->cols[K_CALLER], K_LOCK_S - K_CALLER,
                                  &st->params[K_CALLER], &st->lengths[K_CALLER],
                                  &st->formats[K_CALLER]) &&
                st->valid;
    snprintf(st->lock_s, sizeof(st->lock_s), "%d", extra->idem_lock_s);
    snprintf(st->ttl_s, sizeof(st->ttl_s), "%d", extra->idem_ttl_s);
    st->params[K_LOCK_S] = st->lock_s;
    st->params[K_TTL_S] = st->ttl_s;
    st->nparams = N_COLUMNS;
    st->sql = insert_claim_sql;
    for (int i = 0; i < extra->nidem; i++) {
      if (!extra->idem[i]->deferred) {
        st->sql = insert_keys_sql;
      }
    }
  }
  return st;
}

void h_notif_stmt_free(struct h_notif_stmt *st) {
  if (st == NULL) {
    return;
  }
  for (int i = 0; i < N_COLUMNS; i++) {
    h_pg_array_free(&st->cols[i]); /* the scalars' entries hold nothing */
  }
  free(st->ids);
  free(st);
}

/* Sets written[i] for each of the statement's rows whose id is in the array literal ids
 * (NULL: none). */
static void mark_written(const struct h_notif_stmt *st, const char *ids, bool *written) {
  for (int i = 0; i < st->n; i++) {
    written[i] = ids != NULL && strstr(ids, st->ids[i]) != NULL;
  }
}

h_result h_notif_stmt_exec(PGconn *conn, const struct h_notif_stmt *st, int *inserted,
                           char created_at[32], bool *written) {
  PGresult *res = NULL;
  /* an id that is not a uuid: what PostgreSQL's uuid_in would have refused (22P02) */
  h_result r = !st->valid ? H_ERR_INVALID
                          : h_db_exec_formats(conn, st->sql, st->nparams, st->params,
                                              st->lengths, st->formats, &res);
  if (r != H_OK) {
    return r;
  }
  int n = st->n;
  *inserted = atoi(PQgetvalue(res, 0, 0));
  h_copy(created_at, 32, PQgetvalue(res, 0, 1));
  if (written != NULL) {
    if (*inserted < n) {
      mark_written(st, PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2), written);
    } else {
      memset(written, 1, (size_t)n * sizeof(*written));
    }
  }
  PQclear(res);
  /* a recipient deleted meanwhile: the caller's transaction is to be rolled back */
  return *inserted < n && written == NULL ? H_ERR_NOT_FOUND : H_OK;
}

h_result h_notif_repo_insert(PGconn *conn, const struct h_notification_row *rows, int n,
                             const struct h_delivery_row *dels, int nd,
                             const struct h_notif_extra *extra, int *inserted,
                             char created_at[32], bool *written) {
  struct h_notif_stmt *st = h_notif_stmt_build(rows, n, dels, nd, extra);
  h_result r = h_notif_stmt_exec(conn, st, inserted, created_at, written);
  h_notif_stmt_free(st);
  return r;
}

#define FEED_FILTERS H_NOTIF_FEED_FILTERS
#define FEED_ORDER H_NOTIF_FEED_ORDER

h_result h_notif_repo_feed(PGconn *conn, const char *user_id, const struct h_feed_filter *f,
                           const struct h_page *page, json_t **data, bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *unread = f->unread < 0 ? NULL : f->unread ? "t" : "f";
  const char *params[] = {user_id, unread, f->category, f->priority, page->starting_after, limit,
                          f->archived ? "t" : "f", f->since, f->until, f->q};
  if (f->q == NULL) {
    return h_db_page(conn, "SELECT " FEED_COLUMNS FEED_FILTERS FEED_ORDER, 9, params,
                     page->limit, data, has_more);
  }
  /* The words in the language of the user's locale, as the rows were indexed. The
   * configuration goes in as a constant: the planner then sees the tsquery and picks
   * between the feed index and the GIN index by how common the words are. */
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "SELECT herald_ts_config(locale)::text FROM users"
                               " WHERE id = $1::uuid", 1, params, &res);
  if (r != H_OK) {
    return r;
  }
  char config[64];
  snprintf(config, sizeof(config), "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "simple");
  PQclear(res);
  const char *sparams[] = {user_id, unread, f->category, f->priority, page->starting_after,
                           limit, f->archived ? "t" : "f", f->since, f->until, f->q, config};
  return h_db_page(conn,
                   "SELECT " FEED_COLUMNS FEED_FILTERS
                   "   AND search @@ websearch_to_tsquery($11::regconfig, $10)" FEED_ORDER,
                   11, sparams, page->limit, data, has_more);
}

h_result h_notif_repo_unread_count(PGconn *conn, const char *user_id, long *count) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " H_UNREAD_COUNT_SQL("$1::uuid"),
                         1, params, &res);
  if (r == H_OK) {
    *count = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_get(PGconn *conn, const char *id, const char *user_id, json_t **out) {
  const char *params[] = {id, user_id};
  if (user_id == NULL) {
    return h_db_one(conn, "SELECT " ADMIN_COLUMNS " FROM notifications WHERE id = $1::uuid", 1,
                   params, out);
  }
  return h_db_one(conn,
                 "SELECT " FEED_COLUMNS " FROM notifications WHERE id = $1::uuid"
                 " AND user_id = $2::uuid AND" FEED_WHERE,
                 2, params, out);
}

h_result h_notif_repo_deliveries(PGconn *conn, const char *notification_id, json_t **out) {
  const char *params[] = {notification_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " DELIVERY_COLUMNS " FROM deliveries"
                         " WHERE notification_id = $1::uuid"
                         " ORDER BY deliveries.created_at, deliveries.channel",
                         1, params, &res);
  if (r == H_OK) {
    *out = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_set_read(PGconn *conn, const char *id, const char *user_id, bool read,
                               json_t **out) {
  const char *params[] = {id, user_id, read ? "t" : "f"};
  return h_db_one(conn,
                 "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$2::uuid") ")"
                 " UPDATE notifications SET read_at = CASE WHEN $3::bool"
                 "   THEN COALESCE(read_at, now()) END,"
                 " archived_at = CASE WHEN $3::bool THEN archived_at END, " H_NOTIF_BUMP_SEQ
                 " FROM lk WHERE id = $1::uuid AND user_id = $2::uuid AND" FEED_WHERE
                 " RETURNING " FEED_COLUMNS,
                 3, params, out);
}

/* Runs sql, an UPDATE of user_id's feed ($1), and hands out how many rows it changed. */
static h_result update_feed(PGconn *conn, const char *sql, const char *user_id, long *n) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, 1, params, &res);
  if (r == H_OK) {
    *n = atol(PQcmdTuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_read_all(PGconn *conn, const char *user_id, long *updated) {
  return update_feed(conn,
                     "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$1::uuid") ")"
                     " UPDATE notifications SET read_at = now(), " H_NOTIF_BUMP_SEQ
                     " FROM lk WHERE user_id = $1::uuid AND" FEED_WHERE " AND read_at IS NULL",
                     user_id, updated);
}

h_result h_notif_repo_soft_delete(PGconn *conn, const char *id, const char *user_id) {
  const char *params[] = {id, user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$2::uuid") ")"
                         " UPDATE notifications SET deleted_at = now(), " H_NOTIF_BUMP_SEQ
                         " FROM lk WHERE id = $1::uuid AND user_id = $2::uuid AND" FEED_WHERE,
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

h_result h_notif_repo_set_archived(PGconn *conn, const char *id, const char *user_id,
                                   bool archived, json_t **out) {
  const char *params[] = {id, user_id, archived ? "t" : "f"};
  return h_db_one(conn,
                 "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$2::uuid") ")"
                 " UPDATE notifications SET archived_at = CASE WHEN $3::bool"
                 "   THEN COALESCE(archived_at, now()) END,"
                 " read_at = CASE WHEN $3::bool THEN COALESCE(read_at, now()) ELSE read_at END, "
                 H_NOTIF_BUMP_SEQ
                 " FROM lk WHERE id = $1::uuid AND user_id = $2::uuid AND" FEED_WHERE
                 " RETURNING " FEED_COLUMNS,
                 3, params, out);
}

h_result h_notif_repo_clear(PGconn *conn, const char *user_id, long *cleared) {
  return update_feed(conn,
                     "WITH lk AS (SELECT " H_NOTIF_FEED_LOCK("$1::uuid") ")"
                     " UPDATE notifications SET deleted_at = now(), " H_NOTIF_BUMP_SEQ
                     " FROM lk WHERE user_id = $1::uuid AND" FEED_WHERE,
                     user_id, cleared);
}

/* jobs.c - claim, record and recover delivery jobs in PostgreSQL. */
#include "queue/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"

void h_job_free(struct h_job *job) {
  free(job->category);
  free(job->priority);
  free(job->title);
  free(job->body);
  free(job->html);
  free(job->action_url);
  json_decref(job->data);
  json_decref(job->push);
  free(job->email);
  free(job->phone);
  free(job->name);
  free(job->locale);
  free(job->user_status);
  for (size_t i = 0; i < job->ndevices; i++) {
    free(job->devices[i].token);
    free(job->devices[i].platform);
  }
  free(job->devices);
  if (job->endpoint != NULL) {
    free(job->endpoint->url);
    free(job->endpoint->format);
    free(job->endpoint->secret);
    free(job->endpoint->previous_secret);
    free(job->endpoint);
  }
  memset(job, 0, sizeof(*job));
}

/* A nullable column of row as a new string (caller frees) or NULL. */
static char *column(const PGresult *res, int row, int col) {
  return PQgetisnull(res, row, col) ? NULL : h_strdup(PQgetvalue(res, row, col));
}

void h_job_fill(const PGresult *res, int row, struct h_job *job) {
  memset(job, 0, sizeof(*job));
  snprintf(job->id, sizeof(job->id), "%s", PQgetvalue(res, row, 0));
  snprintf(job->notification_id, sizeof(job->notification_id), "%s", PQgetvalue(res, row, 1));
  snprintf(job->user_id, sizeof(job->user_id), "%s", PQgetvalue(res, row, 2));
  snprintf(job->channel, sizeof(job->channel), "%s", PQgetvalue(res, row, 3));
  job->attempts = atoi(PQgetvalue(res, row, 4));
  job->recoveries = atoi(PQgetvalue(res, row, 5));
  job->fencing_token = strtoll(PQgetvalue(res, row, 6), NULL, 10);
  job->category = column(res, row, 7);
  job->priority = column(res, row, 8);
  job->title = column(res, row, 9);
  job->body = column(res, row, 10);
  job->html = column(res, row, 11);
  job->action_url = column(res, row, 12);
  job->data = json_loads(PQgetvalue(res, row, 13), 0, NULL);
  if (!json_is_object(job->data)) {
    json_decref(job->data);
    job->data = json_object();
  }
  job->email = column(res, row, 14);
  job->phone = column(res, row, 15);
  job->name = column(res, row, 16);
  job->locale = column(res, row, 17);
  job->user_status = column(res, row, 18);
  job->push = PQgetisnull(res, row, 19) ? NULL : json_loads(PQgetvalue(res, row, 19), 0, NULL);
  job->email_suppressed = PQgetvalue(res, row, 20)[0] == 't';
}

/* Why a claim matched nothing: CONFLICT (scheduled later, *due_at set), NOT_FOUND,
 * or H_OK with job filled when the row is already claimed by this very worker
 * thread: a retried claim whose first COMMIT happened but whose reply was lost
 * (the watchdog cut the connection, the network dropped it). The id sits in this
 * thread's own processing list, so adopting the claim is the only way on: dropping
 * it would leave the row 'processing' with no id anywhere in Redis. */
static h_result why_unclaimable(PGconn *conn, const char *id, const char *channel,
                                const char *worker_id, struct h_job *job, double *due_at) {
  const char *params[] = {id, channel, worker_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT status, extract(epoch FROM due_at)::float8,"
                         " status = 'processing' AND claimed_by IS NOT DISTINCT FROM $3"
                         " FROM deliveries WHERE id = $1::uuid AND channel = $2",
                         3, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = H_ERR_NOT_FOUND;
  if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "scheduled") == 0) {
    *due_at = strtod(PQgetvalue(res, 0, 1), NULL);
    r = H_ERR_CONFLICT;
  } else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
    r = h_job_load(conn, id, job);
    if (r == H_OK) {
      h_log_warning("%s: delivery %s already claimed by this thread (a claim reply was lost):"
                    " adopted with fencing token %lld", worker_id, id, job->fencing_token);
    }
  }
  PQclear(res);
  return r;
}

h_result h_job_claim(PGconn *conn, const char *id, const char *channel, const char *worker_id,
                     struct h_job *job, double *due_at) {
  memset(job, 0, sizeof(*job));
  *due_at = 0;
  if (!h_uuid_valid(id)) {
    return H_ERR_NOT_FOUND; /* garbage in a Redis list: nothing to claim */
  }
  const char *params[] = {id, worker_id, channel};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH c AS (UPDATE deliveries SET status = 'processing', attempts = attempts + 1,"
      "   fencing_token = fencing_token + 1, claimed_by = $2, updated_at = now()"
      " WHERE id = $1::uuid AND channel = $3 AND " H_JOB_CLAIMABLE_SQL
      " RETURNING *)"
      " SELECT " H_JOB_COLUMNS " FROM c" H_JOB_JOINS,
      3, params, &res);
  if (r != H_OK) {
    return r == H_ERR_CONFLICT ? H_ERR_UNAVAILABLE : r; /* a deadlock: try again */
  }
  if (PQntuples(res) == 1) {
    h_job_fill(res, 0, job);
  } else {
    r = why_unclaimable(conn, id, channel, worker_id, job, due_at);
  }
  PQclear(res);
  return r;
}

h_result h_job_load(PGconn *conn, const char *id, struct h_job *job) {
  memset(job, 0, sizeof(*job));
  if (!h_uuid_valid(id)) {
    return H_ERR_NOT_FOUND;
  }
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT " H_JOB_COLUMNS " FROM deliveries c" H_JOB_JOINS
                         " WHERE c.id = $1::uuid",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    h_job_fill(res, 0, job);
  } else {
    r = H_ERR_NOT_FOUND;
  }
  PQclear(res);
  return r;
}

h_result h_job_load_devices(PGconn *conn, struct h_job *job) {
  const char *params[] = {job->user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT token, platform, " H_UNREAD_COUNT_SQL("$1::uuid")
                         " FROM devices WHERE user_id = $1::uuid AND active"
                         " ORDER BY last_seen_at DESC, id DESC LIMIT 50",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  size_t n = (size_t)PQntuples(res);
  job->devices = n > 0 ? h_calloc(n, sizeof(struct h_device)) : NULL;
  job->ndevices = n;
  for (size_t i = 0; i < n; i++) {
    job->devices[i].token = h_strdup(PQgetvalue(res, (int)i, 0));
    job->devices[i].platform = h_strdup(PQgetvalue(res, (int)i, 1));
    job->unread = atol(PQgetvalue(res, (int)i, 2));
  }
  PQclear(res);
  return H_OK;
}

h_result h_job_load_endpoint(PGconn *conn, struct h_job *job) {
  const char *params[] = {job->id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT e.id, e.url, e.format, e.secret,"
                         " CASE WHEN e.previous_secret_expires_at > now()"
                         "   THEN e.previous_secret END, e.enabled"
                         " FROM deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
                         " WHERE d.id = $1::uuid",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    struct h_endpoint *e = h_calloc(1, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", PQgetvalue(res, 0, 0));
    e->url = column(res, 0, 1);
    e->format = column(res, 0, 2);
    e->secret = column(res, 0, 3);
    e->previous_secret = column(res, 0, 4);
    e->enabled = PQgetvalue(res, 0, 5)[0] == 't';
    job->endpoint = e;
  }
  PQclear(res);
  return H_OK;
}

h_result h_job_endpoint_result(PGconn *conn, const struct h_job *job, bool ok, int disable_after,
                               bool *disabled) {
  if (disabled != NULL) {
    *disabled = false;
  }
  if (job->endpoint == NULL) {
    return H_OK;
  }
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", disable_after);
  const char *params[] = {job->endpoint->id, ok ? "t" : "f", limit};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "UPDATE webhook_endpoints SET"
      "   consecutive_failures = CASE WHEN $2::bool THEN 0 ELSE consecutive_failures + 1 END,"
      "   last_success_at = CASE WHEN $2::bool THEN now() ELSE last_success_at END,"
      "   last_failure_at = CASE WHEN $2::bool THEN last_failure_at ELSE now() END,"
      "   enabled = enabled AND ($2::bool OR consecutive_failures + 1 < $3::int),"
      "   disabled_at = CASE WHEN enabled AND NOT $2::bool AND consecutive_failures + 1 >= $3::int"
      "     THEN now() ELSE disabled_at END,"
      "   disabled_reason = CASE WHEN enabled AND NOT $2::bool"
      "     AND consecutive_failures + 1 >= $3::int"
      "     THEN 'consecutive_failures' ELSE disabled_reason END,"
      "   updated_at = now()"
      " WHERE id = $1::uuid RETURNING NOT enabled AND disabled_at = now()",
      3, params, &res);
  if (r == H_OK) {
    if (disabled != NULL) {
      *disabled = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    }
    PQclear(res);
  }
  return r;
}

/* After a fenced update matched nothing: H_OK when this very outcome is already
 * recorded under our token (a lost COMMIT reply), else H_ERR_CONFLICT. */
static h_result already_recorded(PGconn *conn, const struct h_job *job,
                                 const struct h_job_outcome *o) {
  const char *params[] = {job->id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "SELECT status, fencing_token FROM deliveries WHERE id = $1::uuid",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  r = H_ERR_CONFLICT;
  if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), o->status) == 0 &&
      strtoll(PQgetvalue(res, 0, 1), NULL, 10) == job->fencing_token) {
    r = H_OK;
  }
  PQclear(res);
  return r;
}

h_result h_job_record(PGconn *conn, const struct h_job *job, const struct h_job_outcome *o) {
  char token[32], due[32], duration[16];
  snprintf(token, sizeof(token), "%lld", job->fencing_token);
  snprintf(due, sizeof(due), "%.3f", o->due_at);
  snprintf(duration, sizeof(duration), "%d", o->duration_ms);
  char *meta = o->meta != NULL ? json_dumps(o->meta, JSON_COMPACT) : NULL;
  char *tokens = o->deactivate_tokens != NULL && json_array_size(o->deactivate_tokens) > 0
                     ? json_dumps(o->deactivate_tokens, JSON_COMPACT)
                     : NULL;
  char *calls = o->calls != NULL ? json_dumps(o->calls, JSON_COMPACT) : NULL;
  const char *params[] = {job->id, token,    o->status, o->provider, o->provider_message_id,
                          o->error, o->reason, due,      o->event,    tokens,
                          duration, meta,     calls};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH u AS (UPDATE deliveries SET status = $3, provider = COALESCE($4, provider),"
      "   provider_message_id = COALESCE($5, provider_message_id), last_error = $6,"
      "   reason = COALESCE($7, reason),"
      "   sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END,"
      "   due_at = CASE WHEN $3 = 'scheduled' THEN to_timestamp($8::float8) ELSE due_at END,"
      "   provider_attempts = provider_attempts || COALESCE($13::jsonb, '[]'::jsonb),"
      "   updated_at = now()"
      " WHERE id = $1::uuid AND fencing_token = $2::bigint"
      "   AND " H_JOB_PROCESSING_SQL("status")
      " RETURNING id, attempts),"
      " d AS (UPDATE devices SET active = false, updated_at = now()"
      " WHERE $10::jsonb IS NOT NULL AND EXISTS (SELECT 1 FROM u)"
      "   AND token IN (SELECT jsonb_array_elements_text($10::jsonb)))"
      " INSERT INTO delivery_events (delivery_id, attempt, status, provider,"
      "   provider_message_id, error, duration_ms, meta)"
      " SELECT id, attempts, $9, $4, $5, $6, $11::int, $12::jsonb FROM u RETURNING id",
      13, params, &res);
  free(calls);
  free(meta);
  free(tokens);
  if (r != H_OK) {
    return r == H_ERR_CONFLICT ? H_ERR_UNAVAILABLE : r; /* a deadlock, not a fence: retry */
  }
  bool updated = PQntuples(res) == 1;
  PQclear(res);
  return updated ? H_OK : already_recorded(conn, job, o);
}

/* The state of a row the reaper found not 'processing'. */
static h_result current_state(PGconn *conn, const char *id, char status[16], double *due_at) {
  const char *params[] = {id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "SELECT status, extract(epoch FROM due_at)::float8 FROM deliveries"
                         " WHERE id = $1::uuid",
                         1, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
    *due_at = strtod(PQgetvalue(res, 0, 1), NULL);
  }
  PQclear(res);
  return H_OK;
}

h_result h_job_recover(PGconn *conn, const char *id, const char *owner, int max_recoveries,
                       bool hold, const char *why, char status[16], double *due_at) {
  snprintf(status, 16, "gone");
  *due_at = 0;
  if (!h_uuid_valid(id)) {
    return H_OK;
  }
  char max[16];
  snprintf(max, sizeof(max), "%d", max_recoveries);
  const char *params[] = {id, max, hold ? "true" : "false", why, owner};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH r AS (UPDATE deliveries SET recoveries = recoveries + 1,"
      "   status = CASE WHEN recoveries + 1 >= $2::int THEN 'dead'"
      "                 WHEN $3::bool THEN 'held' ELSE 'queued' END,"
      "   reason = CASE WHEN recoveries + 1 >= $2::int THEN 'too_many_recoveries'"
      "                 WHEN $3::bool THEN 'recovered_hold_for_review' ELSE reason END,"
      "   last_error = $4, fencing_token = fencing_token + 1, due_at = now(), updated_at = now(),"
      "   repushes = 0"
      " WHERE id = $1::uuid AND " H_JOB_PROCESSING_SQL("status")
      "   AND ($5::text IS NULL OR claimed_by = $5) RETURNING id, attempts, status),"
      " e AS (INSERT INTO delivery_events (delivery_id, attempt, status, error)"
      "   SELECT id, attempts, CASE status WHEN 'queued' THEN 'recovered' ELSE status END, $4"
      "   FROM r)"
      " SELECT status FROM r",
      5, params, &res);
  if (r != H_OK) {
    return r;
  }
  if (PQntuples(res) == 1) {
    snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return H_OK;
  }
  PQclear(res);
  return current_state(conn, id, status, due_at);
}

void h_job_free_ids(char **ids) {
  for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
    free(ids[i]);
  }
  free(ids);
}

h_result h_job_list_stale(PGconn *conn, const char *channel, int stale_s, int limit, char ***ids,
                          size_t *n) {
  char stale[16], lim[16];
  snprintf(stale, sizeof(stale), "%d", stale_s);
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {channel, stale, lim};
  PGresult *res = NULL;
  *ids = NULL;
  *n = 0;
  h_result r = h_db_exec(conn,
                         "SELECT id FROM deliveries WHERE status = 'processing' AND channel = $1"
                         " AND updated_at < now() - make_interval(secs => $2::int)"
                         " ORDER BY updated_at LIMIT $3::int",
                         3, params, &res);
  if (r != H_OK) {
    return r;
  }
  *n = (size_t)PQntuples(res);
  *ids = h_calloc(*n + 1, sizeof(char *));
  for (size_t i = 0; i < *n; i++) {
    (*ids)[i] = h_strdup(PQgetvalue(res, (int)i, 0));
  }
  PQclear(res);
  return H_OK;
}

h_result h_job_dead_list(PGconn *conn, const char *channel, int limit, PGresult **res) {
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {channel, lim};
  return h_db_exec(conn,
                   "SELECT id, attempts, recoveries, reason, last_error, " H_SQL_TS("updated_at")
                   " AS died_at, user_id, notification_id FROM deliveries"
                   " WHERE channel = $1 AND status = 'dead'"
                   " ORDER BY updated_at DESC, id DESC LIMIT $2::int",
                   2, params, res);
}

/* Runs a dead-letter statement returning ids into *ids and *n. */
static h_result ids_of(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       char ***ids, size_t *n) {
  PGresult *res = NULL;
  *ids = NULL;
  *n = 0;
  h_result r = h_db_exec(conn, sql, nparams, params, &res);
  if (r != H_OK) {
    return r;
  }
  *n = (size_t)PQntuples(res);
  *ids = h_calloc(*n + 1, sizeof(char *));
  for (size_t i = 0; i < *n; i++) {
    (*ids)[i] = h_strdup(PQgetvalue(res, (int)i, 0));
  }
  PQclear(res);
  return H_OK;
}

/* The audit row shared by replay and purge: $1 channel, $3 actor, $4 action. */
#define DLQ_AUDIT                                                                            \
  " a AS (INSERT INTO audit_log (actor_type, action, target_type, target_id, details)"      \
  "   SELECT 'system', $4, 'delivery', CASE WHEN count(*) = 1 THEN min(id::text) END,"      \
  "   jsonb_build_object('channel', $1::text, 'count', count(*), 'actor', $3::text)"        \
  "   FROM r HAVING count(*) > 0)"

h_result h_job_replay(PGconn *conn, const char *channel, const char *id, const char *actor,
                      char ***ids, size_t *n) {
  if (id != NULL && !h_uuid_valid(id)) {
    *ids = h_calloc(1, sizeof(char *));
    *n = 0;
    return H_ERR_NOT_FOUND;
  }
  const char *params[] = {channel, id, actor, "delivery.dlq_replay"};
  return ids_of(conn,
                "WITH r AS (UPDATE deliveries SET status = 'queued', attempts = 0, recoveries = 0,"
                "   reason = NULL, due_at = now(), updated_at = now(), repushes = 0,"
                "   fencing_token = fencing_token + 1"
                " WHERE channel = $1 AND status = 'dead' AND ($2::uuid IS NULL OR id = $2::uuid)"
                " RETURNING id, attempts),"
                " e AS (INSERT INTO delivery_events (delivery_id, attempt, status, error)"
                "   SELECT id, attempts, 'replayed', $3 FROM r)," DLQ_AUDIT
                " SELECT id FROM r",
                4, params, ids, n);
}

h_result h_job_purge(PGconn *conn, const char *channel, long older_than_s, const char *actor,
                     char ***ids, size_t *n) {
  char older[32];
  snprintf(older, sizeof(older), "%ld", older_than_s);
  const char *params[] = {channel, older_than_s >= 0 ? older : NULL, actor, "delivery.dlq_purge"};
  return ids_of(conn,
                "WITH r AS (UPDATE deliveries SET status = 'failed', reason = 'dlq_purged',"
                "   updated_at = now()"
                " WHERE channel = $1 AND status = 'dead' AND ($2::bigint IS NULL"
                "   OR updated_at < now() - make_interval(secs => $2::bigint))"
                " RETURNING id, attempts),"
                " e AS (INSERT INTO delivery_events (delivery_id, attempt, status, error)"
                "   SELECT id, attempts, 'purged', $3 FROM r)," DLQ_AUDIT
                " SELECT id FROM r",
                4, params, ids, n);
}

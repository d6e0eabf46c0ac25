/* jobs_batch.c - claim, load devices, record and unclaim a batch of jobs, one
 * statement each (see jobs_batch.h). */
#include "jobs_batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "store/db.h"

/* An item the claim statement has not settled yet. */
#define CLAIM_PENDING H_ERR_INTERNAL

char *h_job_uuid_array(const char *const *ids, size_t n) {
  char *out = h_malloc(n * 37 + 3);
  size_t len = 0;
  out[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    if (ids[i] == NULL || !h_uuid_valid(ids[i])) {
      continue;
    }
    if (len > 1) {
      out[len++] = ',';
    }
    memcpy(out + len, ids[i], 36);
    len += 36;
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

/* The item of items whose id is id, or NULL. */
static struct h_claim_item *item_of(struct h_claim_item *items, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(items[i].id, id) == 0) {
      return &items[i];
    }
  }
  return NULL;
}

static void reset_items(struct h_claim_item *items, size_t n, h_result r) {
  for (size_t i = 0; i < n; i++) {
    if (items[i].result == H_OK) {
      h_job_free(&items[i].job);
    }
    memset(&items[i].job, 0, sizeof(items[i].job));
    items[i].result = r;
    items[i].due_at = 0;
  }
}

/* The record and unclaim find their rows by primary key only (see H_JOB_CLAIMABLE_SQL). */
#define PROCESSING_CASE H_JOB_PROCESSING_SQL("d.status")

/* The one-statement claim; marks the claimed items H_OK, the others CLAIM_PENDING. */
static h_result claim_statement(PGconn *conn, struct h_claim_item *items, size_t n,
                                const char *channel, const char *worker_id) {
  const char **ids = h_malloc(n * sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    ids[i] = items[i].id;
  }
  char *array = h_job_uuid_array(ids, n);
  free(ids);
  const char *params[] = {array, worker_id, channel};
  PGresult *res = NULL;
  h_result r = h_db_exec(
      conn,
      "WITH c AS (UPDATE deliveries SET status = 'processing', attempts = attempts + 1,"
      "   fencing_token = fencing_token + 1, claimed_by = $2, updated_at = now()"
      " WHERE id = ANY($1::uuid[]) AND channel = $3"
      "   AND " H_JOB_CLAIMABLE_SQL
      " RETURNING *)"
      " SELECT " H_JOB_COLUMNS " FROM c" H_JOB_JOINS,
      3, params, &res);
  free(array);
  if (r != H_OK) {
    return r == H_ERR_CONFLICT ? H_ERR_UNAVAILABLE : r; /* a deadlock: try again */
  }
  reset_items(items, n, CLAIM_PENDING);
  for (int row = 0; row < PQntuples(res); row++) {
    struct h_claim_item *it = item_of(items, n, PQgetvalue(res, row, 0));
    if (it != NULL && it->result != H_OK) {
      h_job_fill(res, row, &it->job);
      it->result = H_OK;
    }
  }
  PQclear(res);
  return H_OK;
}

h_result h_job_claim_batch(PGconn *conn, struct h_claim_item *items, size_t n,
                           const char *channel, const char *worker_id) {
  for (size_t i = 0; i < n; i++) {
    memset(&items[i].job, 0, sizeof(items[i].job));
    items[i].result = CLAIM_PENDING;
  }
  h_result r = claim_statement(conn, items, n, channel, worker_id);
  for (size_t i = 0; r == H_OK && i < n; i++) {
    if (items[i].result == CLAIM_PENDING) { /* not claimed by the statement: ask why */
      items[i].result = h_job_claim(conn, items[i].id, channel, worker_id, &items[i].job,
                                    &items[i].due_at);
      if (items[i].result != H_OK && items[i].result != H_ERR_NOT_FOUND &&
          items[i].result != H_ERR_CONFLICT) {
        r = items[i].result;
      }
    }
  }
  if (r != H_OK) {
    reset_items(items, n, CLAIM_PENDING);
  }
  return r;
}

/* "{id,...}" of the user ids of jobs[0..n). Caller frees. */
static char *user_array(struct h_job *const *jobs, size_t n) {
  const char **ids = h_malloc((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    ids[i] = jobs[i]->user_id;
  }
  char *array = h_job_uuid_array(ids, n);
  free(ids);
  return array;
}

/* Copies the rows of res whose user is job's into job->devices. */
static void devices_of(const PGresult *res, struct h_job *job) {
  size_t count = 0;
  int rows = PQntuples(res);
  for (int row = 0; row < rows; row++) {
    count += strcasecmp(PQgetvalue(res, row, 0), job->user_id) == 0;
  }
  job->devices = count > 0 ? h_calloc(count, sizeof(struct h_device)) : NULL;
  job->ndevices = 0;
  for (int row = 0; row < rows; row++) {
    if (strcasecmp(PQgetvalue(res, row, 0), job->user_id) == 0) {
      job->devices[job->ndevices].token = h_strdup(PQgetvalue(res, row, 1));
      job->devices[job->ndevices].platform = h_strdup(PQgetvalue(res, row, 2));
      if (!PQgetisnull(res, row, 3)) { /* on the user's first device only */
        job->unread = atol(PQgetvalue(res, row, 3));
      }
      job->ndevices++;
    }
  }
}

h_result h_job_load_devices_batch(PGconn *conn, struct h_job *const *jobs, size_t n) {
  char *array = user_array(jobs, n);
  const char *params[] = {array};
  PGresult *res = NULL;
  /* The badge once per user, on its first device's row: a CASE runs its subqueries only
   * for the rows that take its branch. */
  h_result r = h_db_exec(conn,
                         "SELECT user_id, token, platform,"
                         " CASE WHEN rank = 1 THEN " H_UNREAD_COUNT_SQL("d.user_id") " END"
                         " FROM (SELECT user_id, token, platform,"
                         "   row_number() OVER (PARTITION BY user_id"
                         "     ORDER BY last_seen_at DESC, id DESC) AS rank"
                         " FROM devices WHERE user_id = ANY($1::uuid[]) AND active) d"
                         " WHERE rank <= 50 ORDER BY user_id, rank",
                         1, params, &res);
  free(array);
  if (r != H_OK) {
    return r;
  }
  for (size_t i = 0; i < n; i++) {
    devices_of(res, jobs[i]);
  }
  PQclear(res);
  return H_OK;
}

/* The JSON text of v (compact), or NULL for NULL. Caller frees. */
static char *json_text(const json_t *v) {
  return v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

bool h_job_outcome_arrays(struct h_job *const *jobs, const struct h_job_outcome *outs,
                          const double *at, size_t n, struct h_pg_array cols[H_OUTCOME_COLUMNS]) {
  static const unsigned oids[H_OUTCOME_COLUMNS] = {
    [H_OUTCOME_ID] = H_PG_OID_UUID,         [H_OUTCOME_TOKEN] = H_PG_OID_INT8,
    [H_OUTCOME_STATUS] = H_PG_OID_TEXT,     [H_OUTCOME_EVENT] = H_PG_OID_TEXT,
    [H_OUTCOME_PROVIDER] = H_PG_OID_TEXT,   [H_OUTCOME_MESSAGE_ID] = H_PG_OID_TEXT,
    [H_OUTCOME_ERROR] = H_PG_OID_TEXT,      [H_OUTCOME_REASON] = H_PG_OID_TEXT,
    [H_OUTCOME_DUE] = H_PG_OID_FLOAT8,      [H_OUTCOME_DURATION] = H_PG_OID_INT4,
    [H_OUTCOME_AT] = H_PG_OID_FLOAT8,       [H_OUTCOME_META] = H_PG_OID_JSONB,
    [H_OUTCOME_TOKENS] = H_PG_OID_JSONB,    [H_OUTCOME_CALLS] = H_PG_OID_JSONB};
  for (int c = 0; c < H_OUTCOME_COLUMNS; c++) {
    cols[c] = (struct h_pg_array){.oid = oids[c]};
  }
  for (size_t i = 0; i < n; i++) {
    const struct h_job_outcome *o = &outs[i];
    h_pg_array_add(&cols[H_OUTCOME_ID], jobs[i]->id);
    h_pg_array_add_long(&cols[H_OUTCOME_TOKEN], jobs[i]->fencing_token);
    h_pg_array_add(&cols[H_OUTCOME_STATUS], o->status);
    h_pg_array_add(&cols[H_OUTCOME_EVENT], o->event);
    h_pg_array_add(&cols[H_OUTCOME_PROVIDER], o->provider);
    h_pg_array_add(&cols[H_OUTCOME_MESSAGE_ID], o->provider_message_id);
    h_pg_array_add(&cols[H_OUTCOME_ERROR], o->error);
    h_pg_array_add(&cols[H_OUTCOME_REASON], o->reason);
    if (o->status != NULL && strcmp(o->status, "scheduled") == 0) {
      h_pg_array_add_double(&cols[H_OUTCOME_DUE], o->due_at);
    } else {
      h_pg_array_add(&cols[H_OUTCOME_DUE], NULL);
    }
    h_pg_array_add_long(&cols[H_OUTCOME_DURATION], o->duration_ms);
    h_pg_array_add_double(&cols[H_OUTCOME_AT], at[i]);
    char *meta = json_text(o->meta);
    bool deactivates = o->deactivate_tokens != NULL && json_array_size(o->deactivate_tokens) > 0;
    char *tokens = deactivates ? json_text(o->deactivate_tokens) : NULL;
    char *calls = json_text(o->calls);
    h_pg_array_add(&cols[H_OUTCOME_META], meta);
    h_pg_array_add(&cols[H_OUTCOME_TOKENS], tokens);
    h_pg_array_add(&cols[H_OUTCOME_CALLS], calls);
    free(meta);
    free(tokens);
    free(calls);
  }
  bool valid = true;
  for (int c = 0; c < H_OUTCOME_COLUMNS; c++) {
    valid = valid && !cols[c].invalid;
  }
  return valid;
}

void h_job_outcome_arrays_free(struct h_pg_array cols[H_OUTCOME_COLUMNS]) {
  for (int c = 0; c < H_OUTCOME_COLUMNS; c++) {
    h_pg_array_free(&cols[c]);
  }
}

/* The outcomes, a row per job, from the arrays of h_job_outcome_arrays ($1 to $14), read in
 * step in a select list (see INSERT_ROWS in common/notifications/notification_repo.c). */
#define OUTCOME_ROWS                                                                         \
  " o AS (SELECT unnest($1::uuid[]) AS id, unnest($2::int8[]) AS token,"                    \
  "   unnest($3::text[]) AS status, unnest($4::text[]) AS event,"                           \
  "   unnest($5::text[]) AS provider, unnest($6::text[]) AS message_id,"                    \
  "   unnest($7::text[]) AS error, unnest($8::text[]) AS reason,"                           \
  "   unnest($9::float8[]) AS due, unnest($10::int[]) AS duration,"                         \
  "   unnest($11::float8[]) AS at, unnest($12::jsonb[]) AS meta,"                           \
  "   unnest($13::jsonb[]) AS tokens, unnest($14::jsonb[]) AS calls)"

/* After the fenced update: results[i] for the jobs it did not match (H_OK when
 * this outcome is already recorded under our token: a lost COMMIT reply). */
static h_result settle_unmatched(PGconn *conn, struct h_job *const *jobs,
                                 const struct h_job_outcome *outs, size_t n,
                                 h_result *results) {
  const char **ids = h_malloc(n * sizeof(char *));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (results[i] != H_OK) {
      ids[m++] = jobs[i]->id;
    }
  }
  char *array = h_job_uuid_array(ids, m);
  free(ids);
  const char *params[] = {array};
  PGresult *res = NULL;
  h_result r = m == 0 ? H_OK
                      : h_db_exec(conn, "SELECT id, status, fencing_token FROM deliveries"
                                        " WHERE id = ANY($1::uuid[])",
                                  1, params, &res);
  free(array);
  for (int row = 0; r == H_OK && res != NULL && row < PQntuples(res); row++) {
    for (size_t i = 0; i < n; i++) {
      if (results[i] != H_OK && strcasecmp(PQgetvalue(res, row, 0), jobs[i]->id) == 0 &&
          strcmp(PQgetvalue(res, row, 1), outs[i].status) == 0 &&
          strtoll(PQgetvalue(res, row, 2), NULL, 10) == jobs[i]->fencing_token) {
        results[i] = H_OK;
      }
    }
  }
  PQclear(res);
  return r;
}

h_result h_job_record_batch(PGconn *conn, struct h_job *const *jobs,
                            const struct h_job_outcome *outs, const double *at, size_t n,
                            h_result *results) {
  struct h_pg_array cols[H_OUTCOME_COLUMNS];
  const char *params[H_OUTCOME_COLUMNS];
  int lengths[H_OUTCOME_COLUMNS], formats[H_OUTCOME_COLUMNS];
  bool valid = h_job_outcome_arrays(jobs, outs, at, n, cols) &&
               h_pg_array_params(cols, H_OUTCOME_COLUMNS, params, lengths, formats);
  PGresult *res = NULL;
  h_result r = H_ERR_INTERNAL;
  if (!valid) {
    h_log_error("h_job_record_batch: a job id that is not a uuid");
  } else {
    r = h_db_exec_formats(
        conn,
        "WITH" OUTCOME_ROWS ","
        " u AS (UPDATE deliveries d SET status = o.status,"
        "   provider = COALESCE(o.provider, d.provider),"
        "   provider_message_id = COALESCE(o.message_id, d.provider_message_id),"
        "   last_error = o.error, reason = COALESCE(o.reason, d.reason),"
        "   sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE d.sent_at END,"
        "   due_at = CASE WHEN o.status = 'scheduled' THEN to_timestamp(o.due) ELSE d.due_at END,"
        "   provider_attempts = d.provider_attempts || COALESCE(o.calls, '[]'::jsonb),"
        "   updated_at = now()"
        " FROM o WHERE d.id = ANY($1::uuid[]) AND d.id = o.id AND d.fencing_token = o.token"
        "   AND " PROCESSING_CASE
        " RETURNING d.id, d.attempts),"
        " dv AS (UPDATE devices SET active = false, updated_at = now()"
        "   WHERE token IN (SELECT jsonb_array_elements_text(o.tokens) FROM o JOIN u ON u.id = o.id"
        "   WHERE o.tokens IS NOT NULL)),"
        " e AS (INSERT INTO delivery_events (delivery_id, attempt, status, provider,"
        "   provider_message_id, error, duration_ms, meta, created_at)"
        "   SELECT u.id, u.attempts, o.event, o.provider, o.message_id, o.error, o.duration,"
        "   o.meta, least(to_timestamp(o.at), now()) FROM u JOIN o ON o.id = u.id)"
        " SELECT id FROM u",
        H_OUTCOME_COLUMNS, params, lengths, formats, &res);
  }
  h_job_outcome_arrays_free(cols);
  if (r != H_OK) {
    return r == H_ERR_CONFLICT ? H_ERR_UNAVAILABLE : r; /* a deadlock, not a fence: retry */
  }
  for (size_t i = 0; i < n; i++) {
    results[i] = H_ERR_CONFLICT;
    for (int row = 0; row < PQntuples(res); row++) {
      if (strcasecmp(PQgetvalue(res, row, 0), jobs[i]->id) == 0) {
        results[i] = H_OK;
      }
    }
  }
  PQclear(res);
  return settle_unmatched(conn, jobs, outs, n, results);
}

h_result h_job_unclaim_batch(PGconn *conn, struct h_job *const *jobs, size_t n) {
  struct h_pg_array cols[2] = {{.oid = H_PG_OID_UUID}, {.oid = H_PG_OID_INT8}};
  for (size_t i = 0; i < n; i++) {
    h_pg_array_add(&cols[0], jobs[i]->id);
    h_pg_array_add_long(&cols[1], jobs[i]->fencing_token);
  }
  const char *params[2];
  int lengths[2], formats[2];
  h_result r = H_ERR_INTERNAL;
  if (!h_pg_array_params(cols, 2, params, lengths, formats)) {
    h_log_error("h_job_unclaim_batch: a job id that is not a uuid");
  } else {
    r = h_db_exec_formats(
        conn,
        "UPDATE deliveries d SET status = 'queued', attempts = greatest(d.attempts - 1, 0),"
        "   fencing_token = d.fencing_token + 1, updated_at = now(), repushes = 0"
        " FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::int8[]) AS token) o"
        " WHERE d.id = ANY($1::uuid[]) AND d.id = o.id AND d.fencing_token = o.token"
        "   AND " PROCESSING_CASE,
        2, params, lengths, formats, NULL);
  }
  h_pg_array_free(&cols[0]);
  h_pg_array_free(&cols[1]);
  return r == H_ERR_CONFLICT ? H_ERR_UNAVAILABLE : r;
}

/* Batches (--batch / HERALD_WORKER_BATCH, workers/runtime/batch.c, jobs_batch.c):
 * the batch claim, record and unclaim against PostgreSQL driven directly (each item
 * fenced by its own token, a stale item discarded alone, a lost COMMIT reply
 * recognised, a lost claim reply adopted), then herald-email and herald-push with
 * --batch against the fakes: every job sent exactly once (what the fake SMTP server
 * and the fake FCM received), and mixed outcomes inside one batch (a permanent
 * failure, a retry, the rest sent; an unregistered device deactivated). A batch reads
 * its rows by primary key, not through the partial indexes on status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "jobs_batch.h"
#include "wtest.h"

static struct wt_proc smtp, fcm;
static PGconn *db;
static struct wt_fcm fcm_env;

static int setup(void **state) {
  (void)state;
  db = wt_begin(&smtp, "fake_smtp.py", NULL);
  wt_fcm_start(&fcm, &fcm_env);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_proc_signal(&fcm, SIGTERM, 5);
  wt_end(db, &smtp);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &smtp);
  wt_reset("push", &fcm);
  return 0;
}

static void exec_ids(const char *sql, char **ids) {
  char *arr = wt_id_array(ids);
  const char *params[] = {arr};
  PGresult *res = PQexecParams(db, sql, ids != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(db));
  }
  PQclear(res);
  free(arr);
}

static void test_claim_batch_sorts_every_id(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 5};
  char **ids = wt_seed_jobs(db, &s);
  char *later[] = {ids[3], NULL}, *done[] = {ids[4], NULL};
  exec_ids("UPDATE deliveries SET status = 'scheduled', due_at = now() + interval '1 hour'"
           " WHERE id = ANY($1::uuid[])", later);
  exec_ids("UPDATE deliveries SET status = 'sent' WHERE id = ANY($1::uuid[])", done);
  struct h_claim_item items[6] = {{.id = ids[0]}, {.id = ids[1]}, {.id = ids[2]},
                                  {.id = ids[3]}, {.id = ids[4]}, {.id = "garbage"}};
  assert_int_equal(h_job_claim_batch(db, items, 6, "email", "host-1-bb/0"), H_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(items[i].result, H_OK);
    assert_string_equal(items[i].job.id, ids[i]);
    assert_int_equal(items[i].job.attempts, 1);
    assert_int_equal(items[i].job.fencing_token, 1);
    assert_non_null(items[i].job.email);
  }
  assert_int_equal(items[3].result, H_ERR_CONFLICT);
  assert_true(items[3].due_at > (double)time(NULL) + 3500);
  assert_int_equal(items[4].result, H_ERR_NOT_FOUND);
  assert_int_equal(items[5].result, H_ERR_NOT_FOUND);
  for (int i = 0; i < 3; i++) {
    h_job_free(&items[i].job);
  }
  /* the same thread again (its first reply lost): adopted with the same tokens */
  assert_int_equal(h_job_claim_batch(db, items, 3, "email", "host-1-bb/0"), H_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(items[i].result, H_OK);
    assert_int_equal(items[i].job.fencing_token, 1);
    h_job_free(&items[i].job);
  }
  /* another thread gets nothing */
  assert_int_equal(h_job_claim_batch(db, items, 3, "email", "host-2-cc/0"), H_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(items[i].result, H_ERR_NOT_FOUND);
  }
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'processing' AND claimed_by = 'host-1-bb/0'"
                                 " AND attempts = 1", ids), 3);
  wt_free_ids(ids);
}

static void test_record_batch_fences_each_item(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 4, .devices = 1, .device_prefix = "rb-"};
  char **ids = wt_seed_jobs(db, &s);
  struct h_claim_item items[4] = {{.id = ids[0]}, {.id = ids[1]}, {.id = ids[2]},
                                  {.id = ids[3]}};
  assert_int_equal(h_job_claim_batch(db, items, 4, "push", "host-1-bb/1"), H_OK);
  struct h_job *jobs[4];
  for (int i = 0; i < 4; i++) {
    assert_int_equal(items[i].result, H_OK);
    jobs[i] = &items[i].job;
  }
  assert_int_equal(h_job_load_devices_batch(db, jobs, 4), H_OK);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(jobs[i]->ndevices, 1);
    assert_non_null(strstr(jobs[i]->devices[0].token, "rb-"));
  }
  /* item 3 is taken over meanwhile (the reaper bumped its token) */
  char *stale[] = {ids[3], NULL};
  exec_ids("UPDATE deliveries SET fencing_token = fencing_token + 1 WHERE id = ANY($1::uuid[])",
           stale);
  json_t *dead_tokens = json_pack("[s]", jobs[1]->devices[0].token);
  json_t *meta = json_pack("{si}", "http_status", 200);
  json_t *calls = json_pack("[{sssi}]", "provider", "fcm", "status", 200);
  double now = (double)time(NULL);
  struct h_job_outcome outs[4] = {
    {.status = "sent", .event = "sent", .provider = "fcm", .provider_message_id = "m-0",
     .duration_ms = 37, .meta = meta, .calls = calls},
    {.status = "failed", .event = "failed", .provider = "fcm", .reason = "no_active_device",
     .error = "UNREGISTERED", .deactivate_tokens = dead_tokens},
    {.status = "scheduled", .event = "retry", .provider = "fcm", .error = "HTTP 503",
     .due_at = now + 60},
    {.status = "sent", .event = "sent", .provider = "fcm", .provider_message_id = "m-3"},
  };
  double at[4] = {now - 2, now - 1, now - 1, now};
  h_result results[4];
  assert_int_equal(h_job_record_batch(db, jobs, outs, at, 4, results), H_OK);
  assert_int_equal(results[0], H_OK);
  assert_int_equal(results[1], H_OK);
  assert_int_equal(results[2], H_OK);
  assert_int_equal(results[3], H_ERR_CONFLICT); /* fenced out, alone */
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider_message_id FROM deliveries"
                           " WHERE id = $1", ids[0]), "sent/m-0");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                           ids[1]), "failed/no_active_device");
  assert_string_equal(wt_text(db, "SELECT d.active::text FROM devices d JOIN deliveries x"
                           " ON x.user_id = d.user_id WHERE x.id = $1", ids[1]), "false");
  assert_string_equal(wt_text(db, "SELECT status || '/' || (due_at > now() + interval '50 s')"
                           " FROM deliveries WHERE id = $1", ids[2]), "scheduled/true");
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", ids[3]),
                      "processing");
  /* one event each for the recorded ones, dated when the attempt ended */
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[])", ids), 3);
  assert_string_equal(wt_text(db, "SELECT (now() - created_at > interval '1.5 s')::text FROM"
                           " delivery_events WHERE delivery_id = $1", ids[0]), "true");
  /* every column of the outcome where it belongs: the event's, the call appended */
  assert_string_equal(wt_text(db, "SELECT concat_ws('/', status, provider, provider_message_id,"
                           " duration_ms, meta->>'http_status', error) FROM delivery_events"
                           " WHERE delivery_id = $1", ids[0]), "sent/fcm/m-0/37/200");
  assert_string_equal(wt_text(db, "SELECT provider_attempts::text FROM deliveries WHERE id = $1",
                           ids[0]), "[{\"status\": 200, \"provider\": \"fcm\"}]");
  assert_string_equal(wt_text(db, "SELECT concat_ws('/', status, error, duration_ms) FROM"
                           " delivery_events WHERE delivery_id = $1", ids[2]), "retry/HTTP 503/0");
  assert_string_equal(wt_text(db, "SELECT concat_ws('/', d.last_error, d.provider,"
                           " jsonb_array_length(d.provider_attempts), e.status) FROM deliveries d"
                           " JOIN delivery_events e ON e.delivery_id = d.id WHERE d.id = $1",
                           ids[1]), "UNREGISTERED/fcm/0/failed");
  /* the same call again (its COMMIT reply lost): recognised, nothing written twice */
  assert_int_equal(h_job_record_batch(db, jobs, outs, at, 4, results), H_OK);
  assert_int_equal(results[0], H_OK);
  assert_int_equal(results[2], H_OK);
  assert_int_equal(results[3], H_ERR_CONFLICT);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[])", ids), 3);
  /* a delivery's events go with it (migration 0109's trigger), the others' stay */
  char *gone[] = {ids[0], ids[1], NULL};
  exec_ids("DELETE FROM deliveries WHERE id = ANY($1::uuid[])", gone);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[])", ids), 1);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[])", gone), 0);
  json_decref(dead_tokens);
  json_decref(meta);
  json_decref(calls);
  for (int i = 0; i < 4; i++) {
    h_job_free(jobs[i]);
  }
  wt_free_ids(ids);
}

static void test_unclaim_batch(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 2};
  char **ids = wt_seed_jobs(db, &s);
  struct h_claim_item items[2] = {{.id = ids[0]}, {.id = ids[1]}};
  assert_int_equal(h_job_claim_batch(db, items, 2, "email", "host-1-bb/2"), H_OK);
  struct h_job *jobs[2] = {&items[0].job, &items[1].job};
  char *stale[] = {ids[1], NULL};
  exec_ids("UPDATE deliveries SET fencing_token = fencing_token + 1 WHERE id = ANY($1::uuid[])",
           stale);
  assert_int_equal(h_job_unclaim_batch(db, jobs, 2), H_OK);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts || '/' || fencing_token"
                           " FROM deliveries WHERE id = $1", ids[0]), "queued/0/2");
  /* not ours any more: untouched */
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[1]), "processing/1");
  h_job_free(jobs[0]);
  h_job_free(jobs[1]);
  wt_free_ids(ids);
}

static const char *const *email_env(void) {
  static char port_var[64];
  static const char *env[] = {"HERALD_EMAIL_PROVIDER=smtp", "HERALD_SMTP_HOST=127.0.0.1",
                              port_var, "HERALD_LOG_LEVEL=info", "HERALD_RETRY_BASE_MS=60000",
                              "HERALD_WORKER_BLOCK_MS=200", "HERALD_PROVIDER_TIMEOUT_MS=2000",
                              NULL};
  snprintf(port_var, sizeof(port_var), "HERALD_SMTP_PORT=%d", smtp.port);
  return env;
}

static int run_email(const char *batch, const char *concurrency, const char *const *env) {
  const char *args[] = {"--once", "--batch", batch, "--concurrency", concurrency, NULL};
  return wt_run_shown(HERALD_EMAIL_BIN, args, env, 90, true);
}

static void test_email_batches_send_each_job_once(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 45};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  wt_push("email", (char *[]){ids[7], NULL}); /* a duplicate id in the ready list */
  assert_int_equal(run_email("8", "2", email_env()), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND attempts = 1 AND provider = 'smtp'",
                             ids), 45);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[]) AND status = 'sent'", ids), 45);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), 45);
  for (int i = 0; i < 45; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), 1);
  }
  json_decref(counts);
  assert_int_equal(wt_llen("herald:q:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  wt_free_ids(ids);
}

static void test_mixed_outcomes_in_one_batch(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 6};
  char **ids = wt_seed_jobs(db, &s);
  char rule[512];
  const char *email_of = "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                         " WHERE d.id = $1";
  snprintf(rule, sizeof(rule), "{\"stage\":\"rcpt\",\"code\":550,\"text\":\"5.1.1 no such"
           " user\",\"match\":\"%s\"}", wt_text(db, email_of, ids[1]));
  wt_fake_rule(smtp.control_port, rule);
  snprintf(rule, sizeof(rule), "{\"stage\":\"rcpt\",\"code\":451,\"text\":\"4.3.0 try later\","
           "\"match\":\"%s\"}", wt_text(db, email_of, ids[4]));
  wt_fake_rule(smtp.control_port, rule);
  /* one thread; a first job alone (the first batch is one job), then the six together */
  struct wt_seed w = {.channel = "email", .n = 1};
  char **first = wt_seed_jobs(db, &w);
  wt_push("email", first);
  wt_push("email", ids);
  const char *const *base = email_env();
  const char *env[16];
  int n = 0;
  for (; base[n] != NULL; n++) {
    env[n] = base[n];
  }
  env[n++] = "HERALD_WORKER_BATCH_WINDOW_MS=60000";
  env[n] = NULL;
  assert_int_equal(run_email("16", "1", env), 0);
  /* recorded in one transaction: one now() for all six rows */
  assert_int_equal(wt_scalar(db, "SELECT count(DISTINCT updated_at) FROM deliveries"
                                 " WHERE id = ANY($1::uuid[])", ids), 1);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                           ids[1]), "failed/smtp_rejected");
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[4]), "scheduled/1");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", ids[4]),
                         "451 4.3.0 try later"));
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids), 4);
  assert_int_equal(wt_scalar(db, "SELECT count(DISTINCT delivery_id) FROM delivery_events"
                                 " WHERE delivery_id = ANY($1::uuid[])", ids), 6);
  assert_int_equal(wt_zcard("herald:delayed:{email}"), 1);
  assert_int_equal(wt_llen("herald:dlq:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), 5); /* four of the six, and the first job */
  json_decref(counts);
  wt_free_ids(first);
  wt_free_ids(ids);
}

static void test_sigterm_hands_back_the_unattempted(void **state) {
  (void)state;
  wt_fake_delay(smtp.control_port, 150);
  struct wt_seed s = {.channel = "email", .n = 30};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  const char *const *base = email_env();
  const char *env[16];
  int n = 0;
  for (; base[n] != NULL; n++) {
    env[n] = base[n];
  }
  env[n++] = "HERALD_WORKER_BATCH_WINDOW_MS=60000"; /* batches of 10 despite the slow server */
  env[n] = NULL;
  const char *args[] = {"--batch", "10", "--concurrency", "1", NULL};
  struct wt_proc w;
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, env);
  /* the first batch is one job; the second claims ten: stop while they are being sent
   * (the server has seen three messages, nothing of the batch is recorded yet) */
  double deadline = wt_now() + 20;
  size_t seen = 0;
  while (seen < 3 && wt_now() < deadline) {
    json_t *messages = wt_fake_messages(smtp.control_port);
    seen = json_array_size(messages);
    json_decref(messages);
    wt_sleep_ms(20);
  }
  assert_true(seen >= 3);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'processing'", ids), 10);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 15), 0);
  long long sent = wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND attempts = 1", ids);
  long long queued = wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                   " AND status = 'queued' AND attempts = 0", ids);
  assert_true(sent >= 3 && sent < 11); /* the batch in progress was cut short... */
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE"
                                 " delivery_id = ANY($1::uuid[])", ids), sent); /* ...quietly */
  assert_int_equal(sent + queued, 30);
  assert_int_equal(wt_llen("herald:q:{email}"), queued);
  assert_int_equal(wt_processing("email"), 0);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), sent);
  json_decref(counts);
  wt_fake_delay(smtp.control_port, 0);
  wt_free_ids(ids);
}

static void test_push_batches_send_each_device_once(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "push", .n = 30, .devices = 2, .device_prefix = "pb-"};
  char **ids = wt_seed_jobs(db, &s);
  char gone[128], body[200], url[96];
  snprintf(gone, sizeof(gone), "%s", wt_text(db, "SELECT min(token) FROM devices WHERE user_id ="
                                          " (SELECT user_id FROM deliveries WHERE id = $1)",
                                          ids[5]));
  snprintf(body, sizeof(body), "{\"token\":\"%s\"}", gone);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/unregister", fcm.port);
  assert_int_equal(th_http("POST", url, body, NULL), 200);
  wt_push("push", ids);
  const char *env[] = {"HERALD_PUSH_PROVIDER=fcm", fcm_env.base_var, fcm_env.creds_var,
                       "HERALD_LOG_LEVEL=info", "HERALD_WORKER_BATCH_WINDOW_MS=60000", NULL};
  const char *args[] = {"--once", "--batch", "12", "--concurrency", "2", NULL};
  assert_int_equal(wt_run_shown(HERALD_PUSH_BIN, args, env, 90, true), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent' AND attempts = 1 AND provider = 'fcm'",
                             ids), 30);
  /* every device of every user got exactly one message, but the unregistered one */
  json_t *counts = wt_fake_counts(fcm.port);
  for (int i = 0; i < 30; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), i == 5 ? 1 : 2);
  }
  json_decref(counts);
  json_t *messages = wt_fake_messages(fcm.port);
  assert_int_equal(json_array_size(messages), 59);
  json_decref(messages);
  assert_string_equal(wt_text(db, "SELECT active::text FROM devices WHERE token = $1", gone), "false");
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM devices d JOIN deliveries x ON"
                                 " x.user_id = d.user_id WHERE x.id = ANY($1::uuid[])"
                                 " AND d.active", ids), 59);
  assert_int_equal(wt_processing("push"), 0);
  wt_free_ids(ids);
}

/* Tuples read so far in this transaction through the partial indexes on status. */
static long long status_index_reads(void) {
  return wt_scalar(db, "SELECT sum(pg_stat_get_xact_tuples_returned(oid))::bigint FROM pg_class"
                       " WHERE relname IN ('deliveries_stale_idx', 'deliveries_scheduled_idx',"
                       "   'deliveries_processing_idx')",
                   NULL);
}

/* A batch reaches its rows by primary key: a claim and a record read nothing through
 * the partial indexes on status, whatever backlog of queued and processing rows they
 * hold and whatever the planner's statistics say (here: taken when no row was queued,
 * so that "status = 'queued'" looks rare). */
static void test_batch_reads_only_its_rows(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 2000};
  char **ids = wt_seed_jobs(db, &s);
  exec_ids("UPDATE deliveries SET status = 'sent' WHERE id = ANY($1::uuid[])", ids);
  exec_ids("ANALYZE deliveries", NULL);
  exec_ids("UPDATE deliveries SET status = 'queued' WHERE id = ANY($1::uuid[])", ids);
  char *others[1001];
  for (int i = 0; i < 1000; i++) {
    others[i] = ids[1000 + i];
  }
  others[1000] = NULL;
  exec_ids("UPDATE deliveries SET status = 'processing', claimed_by = 'host-9-zz/0'"
           " WHERE id = ANY($1::uuid[])", others);
  exec_ids("BEGIN", NULL);
  long long before_claim = status_index_reads();
  struct h_claim_item items[16];
  struct h_job *jobs[16];
  struct h_job_outcome outs[16];
  double at[16];
  h_result results[16];
  for (int i = 0; i < 16; i++) {
    items[i] = (struct h_claim_item){.id = ids[i]};
  }
  assert_int_equal(h_job_claim_batch(db, items, 16, "email", "host-1-bb/2"), H_OK);
  long long claim_reads = status_index_reads() - before_claim;
  for (int i = 0; i < 16; i++) {
    assert_int_equal(items[i].result, H_OK);
    jobs[i] = &items[i].job;
    outs[i] = (struct h_job_outcome){.status = "sent", .event = "sent", .provider = "smtp"};
    at[i] = (double)time(NULL);
  }
  long long before_record = status_index_reads();
  assert_int_equal(h_job_record_batch(db, jobs, outs, at, 16, results), H_OK);
  long long record_reads = status_index_reads() - before_record;
  struct h_job one;
  double due = 0;
  long long before_one = status_index_reads();
  assert_int_equal(h_job_claim(db, ids[16], "email", "host-1-bb/2", &one, &due), H_OK);
  long long one_reads = status_index_reads() - before_one;
  h_job_free(&one);
  exec_ids("COMMIT", NULL);
  for (int i = 0; i < 16; i++) {
    assert_int_equal(results[i], H_OK);
    h_job_free(jobs[i]);
  }
  assert_true(claim_reads < 100);  /* the backlog has 984 queued rows */
  assert_true(record_reads < 100); /* and 1,000 processing ones */
  assert_true(one_reads < 100);    /* the one-id claim (HERALD_WORKER_BATCH=1, webhooks) */
  exec_ids("UPDATE deliveries SET status = 'sent' WHERE id = ANY($1::uuid[])", ids);
  wt_free_ids(ids);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_claim_batch_sorts_every_id, before),
    cmocka_unit_test_setup(test_record_batch_fences_each_item, before),
    cmocka_unit_test_setup(test_unclaim_batch, before),
    cmocka_unit_test_setup(test_batch_reads_only_its_rows, before),
    cmocka_unit_test_setup(test_email_batches_send_each_job_once, before),
    cmocka_unit_test_setup(test_mixed_outcomes_in_one_batch, before),
    cmocka_unit_test_setup(test_sigterm_hands_back_the_unattempted, before),
    cmocka_unit_test_setup(test_push_batches_send_each_device_once, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

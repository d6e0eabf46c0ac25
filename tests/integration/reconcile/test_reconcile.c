/* Integration: herald-reconcile against the fake Stripe with injected differences:
 * payment sync (processing here, succeeded there; a create whose answer was lost),
 * the ledger run (missing on either side, an amount that differs, a refund that
 * failed later), a second run that adds nothing, two --every copies, and the CLI's
 * bad usage. The binary is run as the operator would (HERALD_RECONCILE_BIN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payment_fixtures.h"

static struct th_server srv;
static struct fs_fake fake;
static char *token;
static char user_id[37];
static char period[96]; /* "--since <today> --until <tomorrow>" */

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_TIMEOUT_MS", "1000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_LOG_LEVEL", "error", 1);
  th_start(&srv);
  token = th_user(&srv, "payer", NULL, user_id);
  time_t now = time(NULL), day = now - now % 86400;
  char a[16], b[16];
  time_t next = day + 86400;
  strftime(a, sizeof(a), "%Y-%m-%d", gmtime(&day));
  strftime(b, sizeof(b), "%Y-%m-%d", gmtime(&next));
  snprintf(period, sizeof(period), "--since %s --until %s", a, b);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(token);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

/* Runs herald-reconcile with args; returns its exit status, stdout into out. */
static int run_cli(const char *args, char *out, size_t outlen) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", HERALD_RECONCILE_BIN, args);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, outlen - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char visa[] = "{\"amount\":1500,\"currency\":\"EUR\",\"payment_type\":\"other\","
                           "\"payment_method_id\":\"pm_card_visa\",\"confirm\":true}";
static const char slow[] = "{\"amount\":1700,\"currency\":\"EUR\",\"payment_type\":\"other\","
                           "\"payment_method_id\":\"pm_card_processing\",\"confirm\":true}";

static void test_bad_usage(void **state) {
  (void)state;
  char out[4096];
  assert_int_equal(run_cli("--bogus", out, sizeof(out)), 2);
  assert_int_equal(run_cli("--every 0", out, sizeof(out)), 2);
  assert_int_equal(run_cli("--every soon", out, sizeof(out)), 2);
  assert_int_equal(run_cli("--max-jobs -1", out, sizeof(out)), 2);
  assert_int_equal(run_cli("frobnicate", out, sizeof(out)), 2);
  assert_int_equal(run_cli("run --since 2026-01-05 --until 2026-01-01", out, sizeof(out)), 2);
  assert_int_equal(run_cli("run --since 2026-02-31", out, sizeof(out)), 2);
  assert_int_equal(run_cli("run --since yesterday", out, sizeof(out)), 2);
  assert_int_equal(run_cli("run --since 2026-01-01 --until 2026-03-01", out, sizeof(out)), 2);
  assert_int_equal(run_cli("sync", out, sizeof(out)), 2);
  assert_int_equal(run_cli("--concurrency 0", out, sizeof(out)), 2);
  assert_int_equal(run_cli("--dry-run", out, sizeof(out)), 0); /* lists, changes nothing */
  assert_int_equal(run_cli("sync --payment 00000000-0000-4000-8000-000000000000", out,
                           sizeof(out)), 1);
}

/* Processing here, succeeded at Stripe (the webhook was lost): sync repairs it. */
static void test_sync_repairs_processing(void **state) {
  (void)state;
  char id[37], out[4096], cmd[128];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, token, slow, 201));
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "processing");
  char *pi = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid", id);
  char path[128];
  snprintf(path, sizeof(path), "/_fake/payment_intents/%s/succeed", pi);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
  snprintf(cmd, sizeof(cmd), "sync --payment %s", id);
  assert_int_equal(run_cli(cmd, out, sizeof(out)), 0);
  assert_string_equal(out, "settled\n");
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "succeeded");
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE target_id = $1 AND"
                              " action = 'payment.status_changed' AND details->>'source' ="
                              " 'fetch'", id), 1);
  /* settled and final: a second sync changes nothing, never goes backwards */
  assert_int_equal(run_cli(cmd, out, sizeof(out)), 0);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "succeeded");
  free(pi);
}

/* The create's answer was lost (no intent id stored): the create is retried with
 * the same Idempotency-Key, replaying Stripe's first answer (no second charge). */
static void test_sync_retries_lost_create(void **state) {
  (void)state;
  long created = fs_created(&fake, "payment_intent");
  fs_inject(&fake, "POST", "/v1/payment_intents", "timeout", 1, 2.5);
  struct th_response r;
  char key[64];
  snprintf(key, sizeof(key), "recon-lost-create-%ld-%d", (long)time(NULL), (int)getpid());
  pf_call(&srv, token, "POST", "/api/v1/payments", key, visa, &r);
  assert_int_equal(r.status, 503);
  th_response_free(&r);
  char *id = th_sql_text("SELECT id FROM payments WHERE idempotency_key = $1", key);
  pf_assert_db("SELECT coalesce(provider_payment_intent_id, '') FROM payments"
               " WHERE id = $1::uuid", id, "");
  sleep(2); /* the fake finishes the first request */
  char cmd[128], out[256];
  snprintf(cmd, sizeof(cmd), "sync --payment %s", id);
  assert_int_equal(run_cli(cmd, out, sizeof(out)), 0);
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "succeeded");
  pf_assert_db("SELECT needs_reconciliation::text FROM payments WHERE id = $1::uuid", id,
               "false");
  assert_int_equal(fs_created(&fake, "payment_intent"), created + 1);
  free(id);
}

/* The schedule: 60 s, 5 min x5, 1 h, 1 day, then needs_review and the admins told. */
static void test_schedule_exhausted_needs_review(void **state) {
  (void)state;
  char *admin = th_admin_token(&srv, NULL);
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, token, slow, 201));
  PGconn *db = th_db_connect();
  const char *p[] = {id};
  PGresult *res = PQexecParams(db, "UPDATE payments SET sync_attempts = 8,"
                               " next_sync_at = now() - interval '1 s' WHERE id = $1::uuid",
                               1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(db);
  long before = th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                           " n.id = d.notification_id WHERE n.template_key = $1",
                           "reconcile_review");
  char out[256];
  assert_int_equal(run_cli("--once --every 1s", out, sizeof(out)), 0);
  pf_assert_db("SELECT needs_review::text FROM payments WHERE id = $1::uuid", id, "true");
  assert_true(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                         " n.id = d.notification_id WHERE n.template_key = $1",
                         "reconcile_review") > before);
  free(admin);
}

static size_t collect(char *ptr, size_t size, size_t n, void *arg) {
  json_t **out = arg;
  json_decref(*out);
  *out = json_loadb(ptr, size * n, 0, NULL);
  return size * n;
}

/* A form POST to the fake's Stripe API as a client outside Herald would make it. */
static json_t *stripe_post(const char *path, const char *form) {
  char url[256], auth[128];
  snprintf(url, sizeof(url), "%s%s", fake.base, path);
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", getenv("HERALD_STRIPE_SECRET_KEY"));
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, auth);
  json_t *out = NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  assert_non_null(out);
  return out;
}

static void sql(const char *q, const char *a, const char *b) {
  PGconn *db = th_db_connect();
  const char *p[] = {a, b};
  PGresult *res = PQexecParams(db, q, b != NULL ? 2 : 1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(db);
}

/* Items of kind about object_id in the period of today. */
static long items(const char *kind, const char *object_id) {
  char q[256];
  snprintf(q, sizeof(q), "SELECT count(*) FROM reconciliation_items WHERE kind = '%s' AND"
           " object_id = $1", kind);
  return th_sql_long(q, object_id);
}

static void test_ledger_run(void **state) {
  (void)state;
  char amount_id[37], gone_id[37], slow_id[37], refund_pay[37], gone_pi[64];
  /* an amount that differs */
  snprintf(amount_id, sizeof(amount_id), "%s", pf_pay(&srv, token, visa, 201));
  sql("UPDATE payments SET amount = amount + 100 WHERE id = $1::uuid", amount_id, NULL);
  char *amount_pi = th_sql_text("SELECT provider_payment_intent_id FROM payments"
                               " WHERE id = $1::uuid", amount_id);
  /* succeeded here, unknown at Stripe */
  snprintf(gone_id, sizeof(gone_id), "%s", pf_pay(&srv, token, visa, 201));
  snprintf(gone_pi, sizeof(gone_pi), "pi_gone%.8s%ld", gone_id, (long)time(NULL));
  sql("UPDATE payments SET provider_payment_intent_id = $2 WHERE id = $1::uuid", gone_id, gone_pi);
  /* succeeded at Stripe, unknown here */
  json_t *pi = stripe_post("/v1/payment_intents",
                           "amount=990&currency=eur&payment_method=pm_card_visa&confirm=true");
  const char *outside = th_str(pi, "id");
  assert_string_equal(th_str(pi, "status"), "succeeded");
  /* processing here, succeeded there */
  snprintf(slow_id, sizeof(slow_id), "%s", pf_pay(&srv, token, slow, 201));
  char *slow_pi = th_sql_text("SELECT provider_payment_intent_id FROM payments"
                             " WHERE id = $1::uuid", slow_id);
  char path[160];
  snprintf(path, sizeof(path), "/_fake/payment_intents/%s/succeed", slow_pi);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
  /* a refund succeeded here that failed later at Stripe */
  snprintf(refund_pay, sizeof(refund_pay), "%s", pf_pay(&srv, token, visa, 201));
  char *refund_pi = th_sql_text("SELECT provider_payment_intent_id FROM payments"
                               " WHERE id = $1::uuid", refund_pay);
  fs_inject(&fake, "POST", "/v1/refunds", "refund_pending", 1, 0);
  char form[160];
  snprintf(form, sizeof(form), "payment_intent=%s&amount=500", refund_pi);
  json_t *re = stripe_post("/v1/refunds", form);
  const char *re_id = th_str(re, "id");
  sql("INSERT INTO refunds (payment_id, amount, currency, status, provider_refund_id)"
      " VALUES ($1::uuid, 500, 'EUR', 'succeeded', $2)", refund_pay, re_id);
  snprintf(path, sizeof(path), "/_fake/refunds/%s/fail", re_id);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);

  char out[8192], args[160];
  snprintf(args, sizeof(args), "run %s --dry-run", period);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_non_null(strstr(out, "dry run"));
  assert_int_equal(items("amount_mismatch", amount_pi), 0); /* dry: nothing written */

  snprintf(args, sizeof(args), "run %s", period);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_int_equal(items("amount_mismatch", amount_pi), 1);
  assert_int_equal(items("missing_at_provider", gone_pi), 1);
  assert_int_equal(items("missing_locally", outside), 1);
  assert_int_equal(items("status_mismatch", slow_pi), 1);
  assert_int_equal(items("status_mismatch", re_id), 1);
  assert_int_equal(items("amount_mismatch", slow_pi) + items("status_mismatch", amount_pi), 0);
  pf_assert_db("SELECT (local->>'amount') || '/' || (provider->>'amount') FROM"
               " reconciliation_items WHERE kind = 'amount_mismatch' AND object_id = $1",
               amount_pi, "1600/1500");
  pf_assert_db("SELECT provider->>'status' FROM reconciliation_items WHERE object_id = $1",
               re_id, "failed");
  /* repaired: forward only */
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", slow_id, "succeeded");
  pf_assert_db("SELECT status FROM refunds WHERE provider_refund_id = $1", re_id, "succeeded");
  pf_assert_db("SELECT status FROM reconciliation_runs WHERE $1 <> '' ORDER BY created_at DESC"
               " LIMIT 1", "x",
               "succeeded");
  long total = th_sql_long("SELECT count(*) FROM reconciliation_items WHERE $1 <> ''", "x");

  /* a second run over the same period finds nothing new and duplicates nothing */
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_non_null(strstr(out, "(new: 0)"));
  assert_int_equal(th_sql_long("SELECT count(*) FROM reconciliation_items WHERE $1 <> ''", "x"),
                   total);
  assert_int_equal(th_sql_long("SELECT items_new FROM reconciliation_runs WHERE $1 <> ''"
                              " ORDER BY created_at DESC LIMIT 1", "x"), 0);
  json_decref(pi);
  json_decref(re);
  free(amount_pi);
  free(slow_pi);
  free(refund_pi);
}

/* A payment stamped just before midnight here and just after at Stripe is the same payment,
 * not one missing on each side of the boundary. */
static void test_ledger_boundary(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, token, visa, 201));
  char *pi = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid",
                        id);
  sql("UPDATE payments SET created_at = date_trunc('day', now(), 'UTC') - interval '1 second'"
      " WHERE id = $1::uuid", id, NULL);
  char out[8192], args[160];
  snprintf(args, sizeof(args), "run %s", period);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_int_equal(items("missing_locally", pi), 0);
  assert_int_equal(items("missing_at_provider", pi), 0);
  /* A real difference across the boundary is still reported. */
  sql("UPDATE payments SET amount = amount + 1 WHERE id = $1::uuid", id, NULL);
  assert_int_equal(run_cli(args, out, sizeof(out)), 0);
  assert_int_equal(items("amount_mismatch", pi), 1);
  free(pi);
}

/* Two copies with --every: one wins the tick; each job runs once. */
static void test_two_copies_every(void **state) {
  (void)state;
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, token, slow, 201));
  sql("UPDATE payments SET next_sync_at = now() - interval '1 s' WHERE id = $1::uuid", id, NULL);
  sleep(1); /* a lock of an earlier tick (PX 500 ms) has expired */
  char *pi = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid", id);
  char reqs[160];
  snprintf(reqs, sizeof(reqs), "/_fake/requests?path=/v1/payment_intents/%s", pi);
  pid_t pids[2];
  char every[16]; /* the lock is per period: one no earlier run of this test has used */
  snprintf(every, sizeof(every), "%lds", 1000 + (long)(time(NULL) % 100000));
  for (int i = 0; i < 2; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      execl(HERALD_RECONCILE_BIN, HERALD_RECONCILE_BIN, "--every", every, (char *)NULL);
      _exit(127);
    }
  }
  sleep(3);
  for (int i = 0; i < 2; i++) {
    kill(pids[i], SIGTERM);
    int st = 0;
    waitpid(pids[i], &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0); /* drained */
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM reconcile_jobs WHERE subject_id = $1", id), 1);
  pf_assert_db("SELECT status FROM reconcile_jobs WHERE subject_id = $1", id, "done");
  assert_int_equal(th_sql_long("SELECT sync_attempts FROM payments WHERE id = $1::uuid", id), 1);
  json_t *seen = NULL;
  assert_int_equal(fs_call(&fake, "GET", reqs, NULL, &seen), 200);
  assert_int_equal(json_array_size(json_object_get(seen, "data")), 1); /* one fetch */
  json_decref(seen);
  free(pi);
  /* yesterday's scheduled ledger run exists once, with one job */
  static const char yesterday[] =
      "(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day') AT TIME ZONE 'UTC'";
  char q[512];
  snprintf(q, sizeof(q), "SELECT count(*) FROM reconciliation_runs WHERE $1 <> '' AND"
           " period_start = %s AND requested_by IS NULL", yesterday);
  assert_int_equal(th_sql_long(q, "x"), 1);
  snprintf(q, sizeof(q), "SELECT count(*) FROM reconcile_jobs j JOIN reconciliation_runs r ON"
           " r.id::text = j.subject_id WHERE $1 <> '' AND r.period_start = %s AND"
           " r.requested_by IS NULL", yesterday);
  assert_int_equal(th_sql_long(q, "x"), 1);
}

/* The admin API: bad input per field, a queued run run by the worker, a payment sync. */
static void test_api(void **state) {
  (void)state;
  char *admin = th_admin_token(&srv, NULL);
  struct th_response r;
  static const char *const bad[][2] = {
    {"{\"since\":\"2026-01-05\",\"until\":\"2026-01-01\"}", "until"},
    {"{\"since\":\"2026-01-01\",\"until\":\"2026-03-01\"}", "until"},
    {"{\"since\":\"2026-13-01\"}", "since"},
    {"{\"since\":\"2026-01-01\",\"until\":\"soon\"}", "until"},
    {"{\"since\":20260101}", "since"},
    {"{\"period\":\"day\"}", "period"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    pf_call(&srv, admin, "POST", "/api/v1/admin/reconciliations", NULL, bad[i][0], &r);
    assert_int_equal(r.status, 400);
    json_t *e = json_array_get(json_object_get(json_object_get(r.json, "error"), "errors"), 0);
    assert_string_equal(th_str(e, "param"), bad[i][1]);
    th_response_free(&r);
  }
  pf_call(&srv, token, "POST", "/api/v1/admin/reconciliations", NULL, "{}", &r);
  assert_int_equal(r.status, 403);
  th_response_free(&r);
  char body[96], since[16];
  snprintf(since, sizeof(since), "%.10s", period + 8);
  snprintf(body, sizeof(body), "{\"since\":\"%s\"}", since);
  pf_call(&srv, admin, "POST", "/api/v1/admin/reconciliations", NULL, body, &r);
  assert_int_equal(r.status, 202);
  th_assert_json_subset("{\"object\":\"reconciliation_run\",\"status\":\"queued\"}", r.json);
  char run[37], path[128], out[256];
  snprintf(run, sizeof(run), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  assert_int_equal(run_cli("--once", out, sizeof(out)), 0); /* the worker runs it */
  snprintf(path, sizeof(path), "/api/v1/admin/reconciliations/%s?kind=missing_locally", run);
  pf_call(&srv, admin, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  th_assert_json_subset("{\"status\":\"succeeded\"}", r.json);
  json_t *it;
  size_t i;
  json_array_foreach(json_object_get(r.json, "items"), i, it) {
    assert_string_equal(th_str(it, "kind"), "missing_locally");
  }
  th_response_free(&r);
  snprintf(path, sizeof(path), "/api/v1/admin/reconciliations/%s?kind=all", run);
  pf_call(&srv, admin, "GET", path, NULL, NULL, &r);
  th_assert_error(&r, 400, "invalid_kind");
  th_response_free(&r);
  pf_call(&srv, admin, "GET", "/api/v1/admin/reconciliations?limit=1", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
  th_response_free(&r);
  pf_call(&srv, admin, "POST",
          "/api/v1/admin/payments/00000000-0000-4000-8000-000000000000/sync", NULL, NULL, &r);
  th_assert_error(&r, 404, "not_found");
  th_response_free(&r);
  char id[37];
  snprintf(id, sizeof(id), "%s", pf_pay(&srv, token, slow, 201));
  snprintf(path, sizeof(path), "/api/v1/admin/payments/%s/sync", id);
  pf_call(&srv, admin, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 202);
  th_response_free(&r);
  assert_int_equal(run_cli("--once", out, sizeof(out)), 0);
  pf_assert_db("SELECT status FROM reconcile_jobs WHERE subject_id = $1", id, "done");
  free(admin);
}

/* A refund pending here that succeeded at Stripe (webhook lost): synced forward. */
static void test_sync_refund(void **state) {
  (void)state;
  char *admin = th_admin_token(&srv, NULL);
  char pay[37], path[128], key[64], out[64], cmd[96];
  snprintf(pay, sizeof(pay), "%s", pf_pay(&srv, token, visa, 201));
  fs_inject(&fake, "POST", "/v1/refunds", "refund_pending", 1, 0);
  snprintf(path, sizeof(path), "/api/v1/payments/%s/refunds", pay);
  snprintf(key, sizeof(key), "recon-refund-%ld-%d", (long)time(NULL), (int)getpid());
  struct th_response r;
  pf_call(&srv, admin, "POST", path, key, "{\"amount\":500,\"reason\":\"duplicate\"}", &r);
  assert_int_equal(r.status, 201);
  th_assert_json_subset("{\"status\":\"pending\"}", r.json);
  char id[37], re[64];
  snprintf(id, sizeof(id), "%s", th_str(r.json, "id"));
  snprintf(re, sizeof(re), "%s", th_str(r.json, "provider_refund_id"));
  th_response_free(&r);
  snprintf(cmd, sizeof(cmd), "sync --refund %s", id);
  assert_int_equal(run_cli(cmd, out, sizeof(out)), 0);
  assert_string_equal(out, "pending\n"); /* still pending there: scheduled again */
  assert_true(th_sql_long("SELECT (next_sync_at > now())::int FROM refunds WHERE id = $1::uuid",
                         id) == 1);
  snprintf(path, sizeof(path), "/_fake/refunds/%s/succeed", re);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
  assert_int_equal(run_cli(cmd, out, sizeof(out)), 0);
  assert_string_equal(out, "settled\n");
  pf_assert_db("SELECT status FROM refunds WHERE id = $1::uuid", id, "succeeded");
  free(admin);
}

/* Housekeeping: rows past retention go, recent ones stay. */
static void test_housekeeping(void **state) {
  (void)state;
  char action[64], key[64];
  snprintf(action, sizeof(action), "recon.housekeeping.%ld.%d", (long)time(NULL), (int)getpid());
  snprintf(key, sizeof(key), "recon-old-key-%s", action + 19);
  sql("INSERT INTO audit_log (action, created_at) VALUES ($1, now() - interval '400 days'),"
      " ($1, now())", action, NULL);
  sql("INSERT INTO idempotency_keys (caller, key, request_hash, status, created_at) VALUES"
      " ('user:' || $1, $2, 'x', 'completed', now() - interval '3 days')", user_id, key);
  /* notifications past HERALD_NOTIFICATION_RETENTION_DAYS (365 by default), more than one
   * batch of them, go with their deliveries and events; one still queued stays, recent ones
   * stay */
  sql("WITH n AS (INSERT INTO notifications (user_id, category, body, in_app, created_at)"
      " SELECT $1::uuid, $2, 'old', true, now() - interval '400 days' - g * interval '1 second'"
      " FROM generate_series(1, 1500) g RETURNING id, created_at),"
      " d AS (INSERT INTO deliveries (notification_id, user_id, channel, status, created_at)"
      " SELECT id, $1::uuid, 'in_app', 'sent', created_at FROM n RETURNING id, created_at)"
      " INSERT INTO delivery_events (delivery_id, attempt, status, created_at)"
      " SELECT id, 1, 'sent', now() FROM d", user_id, action);
  sql("WITH n AS (INSERT INTO notifications (user_id, category, body, created_at) VALUES"
      " ($1::uuid, $2, 'stuck', now() - interval '400 days'),"
      " ($1::uuid, $2, 'recent', now() - interval '10 days') RETURNING id, body, created_at)"
      " INSERT INTO deliveries (notification_id, user_id, channel, status, created_at)"
      " SELECT id, $1::uuid, 'email', CASE body WHEN 'stuck' THEN 'queued' ELSE 'sent' END,"
      " created_at FROM n", user_id, action);
  char out[128];
  assert_int_equal(run_cli("housekeeping", out, sizeof(out)), 0);
  assert_non_null(strstr(out, "deleted "));
  assert_non_null(strstr(out, "(1500 notifications)"));
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action = $1", action), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1", key), 0);
  char *left = th_sql_text("SELECT string_agg(body, ',' ORDER BY body) FROM notifications"
                           " WHERE category = $1", action);
  assert_string_equal(left, "recent,stuck");
  free(left);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d JOIN notifications n ON"
                               " n.id = d.notification_id WHERE n.category = $1", action), 2);
  assert_int_equal(th_sql_long("SELECT count(*) FROM delivery_events e WHERE NOT EXISTS"
                               " (SELECT 1 FROM deliveries d WHERE d.id = e.delivery_id)",
                               NULL), 0);
  /* no delivery outlives its notification (migration 0091's trigger) */
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries d WHERE NOT EXISTS"
                               " (SELECT 1 FROM notifications n WHERE n.id = d.notification_id)",
                               NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bad_usage),
    cmocka_unit_test(test_sync_repairs_processing),
    cmocka_unit_test(test_sync_retries_lost_create),
    cmocka_unit_test(test_schedule_exhausted_needs_review),
    cmocka_unit_test(test_ledger_run),
    cmocka_unit_test(test_ledger_boundary),
    cmocka_unit_test(test_two_copies_every),
    cmocka_unit_test(test_api),
    cmocka_unit_test(test_housekeeping),
    cmocka_unit_test(test_sync_refund),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

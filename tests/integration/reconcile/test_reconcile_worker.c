/* Integration: herald-reconcile's worker loop against the fake Stripe: the
 * /metrics listener (--metrics-port), N threads draining the queue exactly once
 * (--concurrency) and a failed job retried by the worker's own sweep, without
 * --every. The binary is run as the operator would (HERALD_RECONCILE_BIN). */
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
static char *admin;

static const char slow[] = "{\"amount\":1700,\"currency\":\"EUR\",\"payment_type\":\"other\","
                           "\"payment_method_id\":\"pm_card_processing\",\"confirm\":true}";

static int setup(void **state) {
  (void)state;
  fs_start(&fake);
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_STRIPE_TIMEOUT_MS", "3000", 1);
  setenv("HERALD_STRIPE_MAX_RETRIES", "0", 1);
  setenv("HERALD_LOG_LEVEL", "error", 1);
  th_start(&srv);
  char user_id[37];
  token = th_user(&srv, "payer", NULL, user_id);
  admin = th_admin_token(&srv, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(token);
  free(admin);
  th_stop(&srv);
  fs_stop(&fake);
  return 0;
}

/* Runs herald-reconcile with argv (NULL-terminated, without the program), output
 * discarded. Returns its pid. */
static pid_t spawn(const char *const *args) {
  const char *argv[16] = {HERALD_RECONCILE_BIN};
  for (int i = 0; args[i] != NULL && i < 14; i++) {
    argv[i + 1] = args[i];
  }
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL) {
      _exit(126);
    }
    execv(HERALD_RECONCILE_BIN, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

static int wait_exit(pid_t pid) {
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(const char *const *args) { return wait_exit(spawn(args)); }

struct buf {
  char data[65536];
  size_t len;
};

static size_t collect(char *ptr, size_t size, size_t n, void *arg) {
  struct buf *b = arg;
  size_t take = size * n < sizeof(b->data) - 1 - b->len ? size * n : sizeof(b->data) - 1 - b->len;
  memcpy(b->data + b->len, ptr, take);
  b->len += take;
  b->data[b->len] = '\0';
  return size * n;
}

/* GET http://127.0.0.1:port<path>; returns the status (0: no answer), body into b. */
static long http_get(int port, const char *path, struct buf *b) {
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  b->len = 0;
  b->data[0] = '\0';
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(c);
  return status;
}

/* The value of the sample named exactly line (name{labels}) in a scrape, or -1. */
static long long sample(const char *text, const char *line) {
  size_t n = strlen(line);
  const char *p = text;
  while (p != NULL && *p != '\0') {
    if (strncmp(p, line, n) == 0 && p[n] == ' ') {
      return atoll(p + n + 1);
    }
    p = strchr(p, '\n');
    p = p != NULL ? p + 1 : NULL;
  }
  return -1;
}

/* Queues a sync of payment id through the admin API (pushes its job id). */
static void admin_sync(const char *id, char job[37]) {
  char path[128];
  struct th_response r;
  snprintf(path, sizeof(path), "/api/v1/admin/payments/%s/sync", id);
  pf_call(&srv, admin, "POST", path, NULL, NULL, &r);
  assert_int_equal(r.status, 202);
  snprintf(job, 37, "%s", th_str(r.json, "id"));
  th_response_free(&r);
}

/* A processing payment here that succeeded at the fake; its intent id into pi. */
static void processing_payment(char id[37], char pi[64]) {
  snprintf(id, 37, "%s", pf_pay(&srv, token, slow, 201));
  char *p = th_sql_text("SELECT provider_payment_intent_id FROM payments WHERE id = $1::uuid", id);
  snprintf(pi, 64, "%s", p);
  free(p);
  char path[160];
  snprintf(path, sizeof(path), "/_fake/payment_intents/%s/succeed", pi);
  assert_int_equal(fs_call(&fake, "POST", path, NULL, NULL), 200);
}

static void test_bad_usage(void **state) {
  (void)state;
  static const char *const bad[][3] = {
    {"--concurrency", "0", NULL},    {"--concurrency", "257", NULL},
    {"--concurrency", "two", NULL},  {"--concurrency", "-1", NULL},
    {"--metrics-port", "65536", NULL}, {"--metrics-port", "-1", NULL},
    {"--metrics-port", "9x", NULL},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(run(bad[i]), 2);
  }
  const char *const ok[] = {"--concurrency", "4", "--dry-run", NULL};
  assert_int_equal(run(ok), 0);
}

/* /metrics answers on the port; a job moves jobs_total{payment_sync,done}. */
static void test_metrics(void **state) {
  (void)state;
  int port = th_free_port();
  char ps[16];
  snprintf(ps, sizeof(ps), "%d", port);
  const char *const args[] = {"--metrics-port", ps, NULL};
  pid_t pid = spawn(args);
  struct buf b;
  long status = 0;
  for (int i = 0; i < 50 && (status = http_get(port, "/metrics", &b)) != 200; i++) {
    usleep(100 * 1000);
  }
  assert_int_equal(status, 200);
  static const char done[] = "herald_reconcile_jobs_total{kind=\"payment_sync\",outcome=\"done\"}";
  long long before = sample(b.data, done);
  assert_true(before >= 0);
  assert_true(sample(b.data, "herald_reconcile_queue_depth") >= 0);
  assert_int_equal(sample(b.data, "herald_reconcile_in_flight"), 0);
  char id[37], pi[64], job[37];
  processing_payment(id, pi);
  admin_sync(id, job);
  long long after = before;
  for (int i = 0; i < 100 && after <= before; i++) {
    usleep(100 * 1000);
    assert_int_equal(http_get(port, "/metrics", &b), 200);
    after = sample(b.data, done);
  }
  assert_true(after >= before + 1);
  assert_true(sample(b.data, "herald_reconcile_job_duration_seconds_count{kind=\"payment_sync\"}")
              >= 1);
  pf_assert_db("SELECT status FROM reconcile_jobs WHERE id = $1::uuid", job, "done");
  pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", id, "succeeded");
  assert_int_equal(http_get(port, "/nothing", &b), 404);
  kill(pid, SIGTERM);
  assert_int_equal(wait_exit(pid), 0);
  assert_int_equal(http_get(port, "/metrics", &b), 0); /* the listener is gone */
}

#define NJOBS 9

/* --concurrency 3: NJOBS jobs (each id pushed twice) run exactly once, in parallel. */
static void test_concurrency(void **state) {
  (void)state;
  char ids[NJOBS][37], pis[NJOBS][64], jobs[NJOBS][37], again[37];
  for (int i = 0; i < NJOBS; i++) {
    processing_payment(ids[i], pis[i]);
    char path[640];
    snprintf(path, sizeof(path), "/v1/payment_intents/%s", pis[i]);
    fs_inject(&fake, "GET", path, "timeout", 1, 0.8); /* each fetch takes 0.8 s */
  }
  for (int i = 0; i < NJOBS; i++) {
    admin_sync(ids[i], jobs[i]);
    admin_sync(ids[i], again); /* the open job again: its id is in the list twice */
    assert_string_equal(again, jobs[i]);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const char *const args[] = {"--once", "--concurrency", "3", NULL};
  assert_int_equal(run(args), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  for (int i = 0; i < NJOBS; i++) {
    pf_assert_db("SELECT status || '/' || attempts FROM reconcile_jobs WHERE id = $1::uuid",
                 jobs[i], "done/1");
    pf_assert_db("SELECT status FROM payments WHERE id = $1::uuid", ids[i], "succeeded");
    char reqs[640];
    json_t *seen = NULL;
    snprintf(reqs, sizeof(reqs), "/_fake/requests?path=/v1/payment_intents/%s", pis[i]);
    assert_int_equal(fs_call(&fake, "GET", reqs, NULL, &seen), 200);
    assert_int_equal(json_array_size(json_object_get(seen, "data")), 1); /* one fetch */
    json_decref(seen);
  }
  /* one thread would need NJOBS * 0.8 s = 7.2 s of fetches alone */
  assert_true(secs < 6.0);
}

/* A ledger run whose provider list fails once is queued again with a delay; once
 * the delay has passed the worker pushes it again itself (no --every) and it runs. */
static void test_retry_without_every(void **state) {
  (void)state;
  struct th_response r;
  time_t day = 946684800 + (time(NULL) % 7000) * 86400; /* a day no earlier run used */
  char body[64];
  strftime(body, sizeof(body), "{\"since\":\"%Y-%m-%d\"}", gmtime(&day));
  pf_call(&srv, admin, "POST", "/api/v1/admin/reconciliations", NULL, body, &r);
  assert_int_equal(r.status, 202);
  char run_id[37];
  snprintf(run_id, sizeof(run_id), "%s", th_str(r.json, "id"));
  th_response_free(&r);
  char *job = th_sql_text("SELECT id::text FROM reconcile_jobs WHERE kind = 'ledger_run' AND"
                         " subject_id = $1", run_id);
  assert_non_null(job);
  fs_inject(&fake, "GET", "/v1/payment_intents", "server_error", 1, 0);
  const char *const args[] = {"--concurrency", "2", NULL};
  pid_t pid = spawn(args);
  static const char state_sql[] =
      "SELECT status || '/' || attempts || '/' || (last_error IS NOT NULL) FROM reconcile_jobs"
      " WHERE id = $1::uuid";
  char *s = NULL;
  for (int i = 0; i < 100; i++, usleep(100 * 1000)) {
    free(s);
    s = th_sql_text(state_sql, job);
    if (strcmp(s, "queued/1/true") == 0) {
      break;
    }
  }
  assert_string_equal(s, "queued/1/true"); /* failed once, queued with a delay */
  assert_int_equal(th_sql_long("SELECT (due_at > now() + interval '30 s')::int FROM"
                              " reconcile_jobs WHERE id = $1::uuid", job), 1);
  /* the delay passes (and the job has been quiet since) */
  PGconn *db = th_db_connect();
  const char *p[] = {job};
  PGresult *res = PQexecParams(db, "UPDATE reconcile_jobs SET due_at = now(), updated_at ="
                               " now() - interval '1 minute' WHERE id = $1::uuid",
                               1, NULL, p, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
  PQclear(res);
  PQfinish(db);
  for (int i = 0; i < 150; i++, usleep(100 * 1000)) {
    free(s);
    s = th_sql_text(state_sql, job);
    if (strncmp(s, "done/", 5) == 0) {
      break;
    }
  }
  assert_string_equal(s, "done/2/false"); /* the second attempt ran and cleared the error */
  pf_assert_db("SELECT status FROM reconciliation_runs WHERE id = $1::uuid", run_id, "succeeded");
  kill(pid, SIGTERM);
  assert_int_equal(wait_exit(pid), 0);
  free(s);
  free(job);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bad_usage),
    cmocka_unit_test(test_metrics),
    cmocka_unit_test(test_concurrency),
    cmocka_unit_test(test_retry_without_every),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

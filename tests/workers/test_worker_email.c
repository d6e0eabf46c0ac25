/* Worker: herald-email against the fake SMTP server (tests/fakes/fake_smtp.py):
 * what the server receives (MIME, headers, TLS, AUTH), the rows and events each
 * outcome writes (sent, failed, retried, skipped, dropped duplicates, rescheduled),
 * and the file provider. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "wtest.h"

static struct wt_proc smtp;
static PGconn *db;

/* The environment of a worker talking to the fake at port (static storage). */
static const char *const *smtp_env(int port, const char *extra1, const char *extra2) {
  static char port_var[64];
  static const char *env[16];
  snprintf(port_var, sizeof(port_var), "HERALD_SMTP_PORT=%d", port);
  int n = 0;
  env[n++] = "HERALD_EMAIL_PROVIDER=smtp";
  env[n++] = "HERALD_SMTP_HOST=127.0.0.1";
  env[n++] = port_var;
  env[n++] = "HERALD_LOG_LEVEL=info";
  env[n++] = "HERALD_RETRY_BASE_MS=200";
  env[n++] = "HERALD_RETRY_MAX_MS=800";
  env[n++] = "HERALD_WORKER_BLOCK_MS=200";
  env[n++] = "HERALD_WORKER_PROMOTE_INTERVAL_MS=50";
  env[n++] = "HERALD_PROVIDER_TIMEOUT_MS=1500";
  if (extra1 != NULL) {
    env[n++] = extra1;
  }
  if (extra2 != NULL) {
    env[n++] = extra2;
  }
  env[n] = NULL;
  return env;
}

static int setup(void **state) {
  (void)state;
  db = wt_begin(&smtp, "fake_smtp.py", NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  wt_end(db, &smtp);
  return 0;
}

static int before(void **state) {
  (void)state;
  wt_reset("email", &smtp);
  return 0;
}

/* The message the fake received for delivery id (borrowed from messages) or NULL. */
static json_t *message_for(json_t *messages, const char *id) {
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    const char *got = json_string_value(json_object_get(m, "delivery_id"));
    if (got != NULL && strcmp(got, id) == 0) {
      return m;
    }
  }
  return NULL;
}

static int run_once(const char *const *env) {
  const char *args[] = {"--once", "--concurrency", "2", NULL};
  return wt_run_shown(HERALD_EMAIL_BIN, args, env, 60, true);
}

static void test_smtp_sends_mime(void **state) {
  (void)state;
  struct wt_seed news = {.channel = "email", .n = 2, .category = "news",
                         .title = "Caf\xc3\xa9 \xe2\x80\x94 today's news", .body = "Plain text",
                         .html = "<p>Rich <b>text</b></p>"};
  struct wt_seed account = {.channel = "email", .n = 1, .category = "account",
                            .title = "Reset your password", .body = "Use this link"};
  char **a = wt_seed_jobs(db, &news), **b = wt_seed_jobs(db, &account);
  wt_push("email", a);
  wt_push("email", b);
  assert_int_equal(run_once(smtp_env(smtp.port, NULL, NULL)), 0);

  const char *sent = "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                     " AND status = 'sent' AND provider = 'smtp' AND attempts = 1"
                     " AND sent_at IS NOT NULL AND provider_message_id = '<' || id || '@herald.local>'";
  assert_int_equal(wt_scalar(db, sent, a) + wt_scalar(db, sent, b), 3);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'sent' AND attempt = 1"
                                 " AND provider = 'smtp' AND duration_ms >= 0", a), 2);
  json_t *messages = wt_fake_messages(smtp.control_port);
  assert_int_equal(json_array_size(messages), 3);
  for (int i = 0; i < 2; i++) {
    json_t *m = message_for(messages, a[i]);
    assert_non_null(m);
    const char *email = wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                             " WHERE d.id = $1", a[i]);
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "rcpt"), 0)), email);
    assert_string_equal(json_string_value(json_object_get(m, "mail_from")),
                        "<no-reply@herald.local>");
    const char *data = json_string_value(json_object_get(m, "data"));
    assert_non_null(strstr(data, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(data, "Content-Type: multipart/alternative"));
    assert_non_null(strstr(data, "Content-Type: text/html; charset=UTF-8"));
    assert_non_null(strstr(data, "List-Unsubscribe: <"));
    assert_int_equal(strncmp(data, "Date: ", 6), 0);
  }
  const char *data = json_string_value(json_object_get(message_for(messages, b[0]), "data"));
  assert_null(strstr(data, "List-Unsubscribe")); /* transactional */
  assert_non_null(strstr(data, "Content-Type: multipart/alternative")); /* HTML from the text */
  assert_non_null(strstr(data, "Content-Type: text/html; charset=UTF-8"));
  assert_non_null(strstr(data, "Subject: Reset your password\r\n"));
  assert_int_equal(wt_llen("herald:q:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  json_decref(messages);
  wt_free_ids(a);
  wt_free_ids(b);
}

/* Runs the worker once with the file provider, its outbox <tmp>/name, and extra (may be NULL,
 * at most 6 more variables); returns the message written for delivery id (caller frees). */
static char *sent_to_file(const char *name, const char *const *extra, const char *id) {
  char dir[256], var[300], path[400];
  snprintf(dir, sizeof(dir), "%s/%s", wt_tmpdir(), name);
  snprintf(var, sizeof(var), "HERALD_EMAIL_OUTBOX_DIR=%s", dir);
  const char *env[9] = {"HERALD_EMAIL_PROVIDER=file", var};
  for (size_t i = 0; extra != NULL && extra[i] != NULL && i < 6; i++) {
    env[2 + i] = extra[i];
  }
  assert_int_equal(run_once(env), 0);
  snprintf(path, sizeof(path), "%s/%s.eml", dir, id);
  char *msg = NULL;
  size_t len = 0;
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_int_equal(getdelim(&msg, &len, '\0', f) > 0, 1);
  fclose(f);
  return msg;
}

static void test_file_provider(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 1};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  char *msg = sent_to_file("outbox-email", NULL, ids[0]);
  char header[96];
  snprintf(header, sizeof(header), "X-Herald-Delivery-Id: %s\r\n", ids[0]);
  assert_non_null(strstr(msg, header));
  free(msg);
  assert_string_equal(wt_text(db, "SELECT status || '/' || provider FROM deliveries WHERE id = $1",
                           ids[0]), "sent/file");
  wt_free_ids(ids);
}

/* Quoted-printable body of the part after marker in msg, decoded with LF line ends (caller
 * frees); the part ends at the next boundary line ("\r\n--"). */
static char *qp_part(const char *msg, const char *marker) {
  const char *p = strstr(msg, marker);
  assert_non_null(p);
  p = strstr(p, "\r\n\r\n");
  assert_non_null(p);
  p += 4;
  const char *end = strstr(p, "\r\n--");
  assert_non_null(end);
  char *out = h_malloc((size_t)(end - p) + 1);
  size_t n = 0;
  while (p < end) {
    if (p[0] == '=' && p + 2 < end + 2 && p[1] == '\r' && p[2] == '\n') {
      p += 3; /* soft line break */
    } else if (p[0] == '=' && p + 2 < end) {
      char hex[3] = {p[1], p[2], 0};
      out[n++] = (char)strtol(hex, NULL, 16);
      p += 3;
    } else if (*p == '\r') {
      p++; /* lines end in CRLF on the wire; compare with LF */
    } else {
      out[n++] = *p++;
    }
  }
  out[n] = '\0';
  return out;
}

/* A template's e-mail part goes out as it was rendered: its subject and text, not the in-app
 * title and body stored beside them (before, the worker sent the in-app ones). */
static void test_template_email_part(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 1, .category = "billing", .title = "Paid",
                      .body = "In-app line",
                      .rendered = "{\"in_app\":{\"title\":\"Paid\",\"body\":\"In-app line\"},"
                                  "\"email\":{\"subject\":\"Receipt 7\","
                                  "\"text\":\"Paid five euros by card.\"}}"};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  char *msg = sent_to_file("outbox-template", NULL, ids[0]);
  assert_non_null(strstr(msg, "Subject: Receipt 7\r\n"));
  assert_non_null(strstr(msg, "Paid five euros by card."));
  assert_null(strstr(msg, "In-app line"));
  free(msg);
  wt_free_ids(ids);
}

/* A notification without an HTML template: multipart/alternative with an HTML part made from
 * the text (escaped, paragraphs, links, the product's name), the headers mail systems expect,
 * and a signed one-click List-Unsubscribe that the API honours. */
static void test_text_only_gets_html_and_one_click(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 1, .category = "news",
                      .title = "Caf\xc3\xa9 news",
                      .body = "Hello <b>you</b> & co.\nSecond line.\n\nRead https://example.com/a?x=1&y=2."};
  char **ids = wt_seed_jobs(db, &s);
  wt_push("email", ids);
  const char *extra[] = {"HERALD_PRODUCT_NAME=Acme \xe2\x80\x94 Alerts",
                         "HERALD_UNSUBSCRIBE_SECRET=worker-test-unsubscribe-secret-0123456789",
                         "HERALD_PUBLIC_URL=https://herald.example/", NULL};
  char *msg = sent_to_file("outbox-html", extra, ids[0]);
  char *head_end = strstr(msg, "\r\n\r\n");
  assert_non_null(head_end);
  *head_end = '\0'; /* the headers alone */
  assert_non_null(strstr(msg, "MIME-Version: 1.0\r\n"));
  assert_non_null(strstr(msg, "Date: "));
  assert_non_null(strstr(msg, "Subject: =?UTF-8?B?"));
  char want[200];
  snprintf(want, sizeof(want), "Message-ID: <%s@herald.local>\r\n", ids[0]);
  assert_non_null(strstr(msg, want));
  assert_non_null(strstr(msg, "Content-Type: multipart/alternative; boundary="));
  assert_non_null(strstr(msg, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  const char *user = wt_text(db, "SELECT user_id::text FROM deliveries WHERE id = $1", ids[0]);
  char user_id[40];
  snprintf(user_id, sizeof(user_id), "%s", user);
  snprintf(want, sizeof(want),
           "List-Unsubscribe: <https://herald.example/api/v1/unsubscribe?user=%s&category=news&sig=",
           user_id);
  char *lu = strstr(msg, want);
  assert_non_null(lu);
  const char *api_path = strstr(lu, "/api/v1/");
  char path_query[400];
  snprintf(path_query, sizeof(path_query), "%.*s", (int)strcspn(api_path, ">"), api_path);
  *head_end = '\r';

  char *plain = qp_part(head_end, "Content-Type: text/plain; charset=UTF-8");
  assert_non_null(strstr(plain, "Hello <b>you</b> & co."));
  char *html = qp_part(head_end, "Content-Type: text/html; charset=UTF-8");
  assert_non_null(strstr(html, "<!DOCTYPE html>"));
  assert_non_null(strstr(html, "<meta name=\"viewport\""));
  assert_non_null(strstr(html, "Hello &lt;b&gt;you&lt;/b&gt; &amp; co.<br>\nSecond line.</p>"));
  assert_non_null(strstr(html, "Read <a href=\"https://example.com/a?x=1&amp;y=2\""));
  assert_non_null(strstr(html, ">https://example.com/a?x=1&amp;y=2</a>.</p>"));
  assert_non_null(strstr(html, "Acme \xe2\x80\x94 Alerts"));
  assert_non_null(strstr(html, "Caf\xc3\xa9 news</h1>"));
  assert_non_null(strstr(html, ">Unsubscribe</a>"));
  assert_null(strstr(html, "<b>you"));
  free(plain);
  free(html);

  /* the API (same secret) honours the link: e-mail of "news" is off for that user */
  setenv("HERALD_UNSUBSCRIBE_SECRET", "worker-test-unsubscribe-secret-0123456789", 1);
  struct th_server api;
  th_start(&api);
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  struct th_response r;
  th_request(&api, "POST", path_query, headers, "List-Unsubscribe=One-Click", &r);
  if (r.status != 200) {
    fail_msg("POST %s: %ld %s", path_query, r.status, r.body);
  }
  th_response_free(&r);
  assert_string_equal(wt_text(db, "SELECT categories::text FROM notification_preferences"
                           " WHERE user_id = $1", user_id), "{\"news\": {\"email\": false}}");
  path_query[strlen(path_query) - 1] ^= 1; /* one altered character */
  th_request(&api, "POST", path_query, headers, "List-Unsubscribe=One-Click", &r);
  th_assert_error(&r, 400, "invalid_signature");
  th_response_free(&r);
  th_stop(&api);
  unsetenv("HERALD_UNSUBSCRIBE_SECRET");
  free(msg);
  wt_free_ids(ids);
}

static void test_5xx_is_permanent(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 1};
  char **ids = wt_seed_jobs(db, &s);
  char rule[256];
  snprintf(rule, sizeof(rule),
           "{\"stage\":\"rcpt\",\"code\":550,\"text\":\"5.1.1 no such user\",\"match\":\"%s\"}",
           wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                " WHERE d.id = $1", ids[0]));
  wt_fake_rule(smtp.control_port, rule);
  wt_push("email", ids);
  assert_int_equal(run_once(smtp_env(smtp.port, NULL, NULL)), 0);
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason || '/' || attempts FROM deliveries"
                           " WHERE id = $1", ids[0]), "failed/smtp_rejected/1");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", ids[0]),
                         "550 5.1.1 no such user"));
  assert_string_equal(wt_text(db, "SELECT string_agg(status, ',' ORDER BY id) FROM delivery_events"
                           " WHERE delivery_id = $1", ids[0]), "failed");
  assert_int_equal(wt_zcard("herald:delayed:{email}"), 0);
  assert_int_equal(wt_llen("herald:dlq:{email}"), 0);
  json_t *messages = wt_fake_messages(smtp.control_port);
  assert_int_equal(json_array_size(messages), 0);
  json_decref(messages);
  wt_free_ids(ids);
}

/* A rule for the recipient of delivery id at stage, failing once. */
static void fail_once(const char *id, const char *stage, const char *how) {
  char rule[512];
  snprintf(rule, sizeof(rule), "{\"stage\":\"%s\",\"count\":1,\"match\":\"%s\",%s}", stage,
           wt_text(db, "SELECT u.email FROM deliveries d JOIN users u ON u.id = d.user_id"
                " WHERE d.id = $1", id), how);
  wt_fake_rule(smtp.control_port, rule);
}

static void test_transient_failures_retry(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 3};
  char **ids = wt_seed_jobs(db, &s);
  fail_once(ids[0], "rcpt", "\"code\":451,\"text\":\"4.3.0 try later\"");
  fail_once(ids[1], "data", "\"mode\":\"timeout\",\"delay_s\":4");
  fail_once(ids[2], "data", "\"mode\":\"disconnect\"");
  wt_fake_rule(smtp.control_port, "{\"stage\":\"ehlo\",\"mode\":\"malformed\",\"count\":1}");
  wt_push("email", ids);
  struct wt_proc w;
  const char *args[] = {"--concurrency", "2", NULL};
  wt_worker_start(&w, HERALD_EMAIL_BIN, args, smtp_env(smtp.port, NULL, NULL));
  bool done = wt_wait_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", ids, 3, 40);
  assert_int_equal(wt_proc_signal(&w, SIGTERM, 15), 0);
  if (!done) {
    wt_proc_dump(&w);
  }
  assert_true(done);
  /* each rule cost exactly one attempt; nothing reached the server twice */
  assert_int_equal(wt_scalar(db, "SELECT sum(attempts) FROM deliveries WHERE id ="
                                 " ANY($1::uuid[])", ids), 3 + 4);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events WHERE delivery_id ="
                                 " ANY($1::uuid[]) AND status = 'retry'", ids), 4);
  /* each failure is recorded as what it was (the connection-level rule hits whichever
   * job opened a connection first) */
  const char *why = "SELECT count(*) FROM delivery_events WHERE delivery_id = ANY($1::uuid[])"
                    " AND status = 'retry' AND error LIKE ";
  char sql[512];
  const char *patterns[] = {"'%451 4.3.0 try later%'", "'%Timeout%354 end data%'",
                            "'%receiving data%354 end data%'", "'%not an SMTP reply%'"};
  for (int i = 0; i < 4; i++) {
    snprintf(sql, sizeof(sql), "%s%s", why, patterns[i]);
    char *one[] = {i < 3 ? ids[i] : NULL, NULL};
    assert_int_equal(wt_scalar(db, sql, i < 3 ? one : ids), 1);
  }
  /* the retry waited its backoff (>= base/2 = 100 ms) */
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM delivery_events r JOIN delivery_events s"
                                 " ON s.delivery_id = r.delivery_id AND s.status = 'sent'"
                                 " WHERE r.delivery_id = ANY($1::uuid[]) AND r.status = 'retry'"
                                 " AND s.created_at - r.created_at >= interval '100 ms'", ids), 4);
  json_t *counts = wt_fake_counts(smtp.control_port);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(json_integer_value(json_object_get(counts, ids[i])), 1);
  }
  json_decref(counts);
  wt_free_ids(ids);
}

/* A self-signed certificate for 127.0.0.1 in the temp folder. */
static void make_cert(char *cert, char *key, size_t len) {
  snprintf(cert, len, "%s/smtp-cert.pem", wt_tmpdir());
  snprintf(key, len, "%s/smtp-key.pem", wt_tmpdir());
  char cmd[1024];
  snprintf(cmd, sizeof(cmd),
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 "
           "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
           key, cert);
  assert_int_equal(system(cmd), 0);
}

static void test_starttls_auth_and_smtps(void **state) {
  (void)state;
  char cert[256], key[256], ca[300];
  make_cert(cert, key, sizeof(cert));
  snprintf(ca, sizeof(ca), "HERALD_SMTP_CA_FILE=%s", cert);
  const char *args[] = {"--auth", "herald:s3cret", "--tls-cert", cert, "--tls-key", key, NULL};
  struct wt_proc tls;
  wt_fake_start(&tls, "fake_smtp.py", args);
  struct wt_seed s = {.channel = "email", .n = 2};
  char **ids = wt_seed_jobs(db, &s);
  char *second = ids[1];
  ids[1] = NULL;
  wt_push("email", ids);
  const char *const *env = smtp_env(tls.port, "HERALD_SMTP_TLS=starttls", ca);
  static char *full[24];
  size_t n = 0;
  for (; env[n] != NULL; n++) {
    full[n] = (char *)env[n];
  }
  full[n++] = "HERALD_SMTP_USER=herald";
  full[n++] = "HERALD_SMTP_PASSWORD=s3cret";
  full[n] = NULL;
  assert_int_equal(run_once((const char *const *)full), 0);
  json_t *messages = wt_fake_messages(tls.control_port);
  assert_int_equal(json_array_size(messages), 1);
  assert_true(json_is_true(json_object_get(json_array_get(messages, 0), "tls")));
  assert_string_equal(json_string_value(json_object_get(json_array_get(messages, 0), "auth")),
                      "herald");
  json_decref(messages);
  /* a wrong password is a configuration problem: retried, never failed */
  free(ids[0]);
  ids[0] = second;
  wt_push("email", ids);
  full[n - 1] = "HERALD_SMTP_PASSWORD=wrong";
  assert_int_equal(run_once((const char *const *)full), 0);
  assert_string_equal(wt_text(db, "SELECT status FROM deliveries WHERE id = $1", second), "scheduled");
  assert_non_null(strstr(wt_text(db, "SELECT last_error FROM deliveries WHERE id = $1", second), "535"));
  /* waiting in the delayed set, or already promoted to the ready list */
  assert_int_equal(wt_zcard("herald:delayed:{email}") + wt_llen("herald:q:{email}"), 1);
  wt_proc_signal(&tls, SIGTERM, 5);
  wt_queue_clear("email");

  /* TLS from the first byte (smtps) */
  const char *iargs[] = {"--implicit-tls", "--tls-cert", cert, "--tls-key", key, NULL};
  wt_fake_start(&tls, "fake_smtp.py", iargs);
  char **one = wt_seed_jobs(db, &s);
  wt_push("email", one);
  assert_int_equal(run_once(smtp_env(tls.port, "HERALD_SMTP_TLS=tls", ca)), 0);
  assert_int_equal(wt_scalar(db, "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[])"
                                 " AND status = 'sent'", one), 2);
  messages = wt_fake_messages(tls.control_port);
  assert_int_equal(json_array_size(messages), 2);
  assert_true(json_is_true(json_object_get(json_array_get(messages, 0), "tls")));
  json_decref(messages);
  wt_proc_signal(&tls, SIGTERM, 5);
  wt_free_ids(ids); /* ids[0] is second now */
  wt_free_ids(one);
}

static void test_duplicates_inactive_and_not_due(void **state) {
  (void)state;
  struct wt_seed s = {.channel = "email", .n = 3};
  char **ids = wt_seed_jobs(db, &s);
  PQclear(PQexecParams(db, "UPDATE users SET status = 'disabled' WHERE id = (SELECT user_id"
                           " FROM deliveries WHERE id = $1)", 1, NULL,
                       (const char *const[]){ids[1]}, NULL, NULL, 0));
  PQclear(PQexecParams(db, "UPDATE deliveries SET status = 'scheduled', due_at = now() +"
                           " interval '1 hour' WHERE id = $1", 1, NULL,
                       (const char *const[]){ids[2]}, NULL, NULL, 0));
  struct wt_seed sms = {.channel = "sms", .n = 1, .phone = true};
  char **other = wt_seed_jobs(db, &sms); /* another channel's id on the e-mail queue */
  char *dup[] = {ids[0], ids[0], ids[1], ids[0], ids[2], "not-a-uuid",
                 "0b6b3a2e-3c4f-4d8e-9f00-00000000dead", other[0], NULL};
  wt_push("email", dup);
  assert_int_equal(run_once(smtp_env(smtp.port, NULL, NULL)), 0);
  json_t *counts = wt_fake_counts(smtp.control_port);
  assert_int_equal(json_object_size(counts), 1);
  assert_int_equal(json_integer_value(json_object_get(counts, ids[0])), 1);
  json_decref(counts);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[0]), "sent/1");
  assert_string_equal(wt_text(db, "SELECT count(*)::text FROM delivery_events WHERE delivery_id = $1",
                           ids[0]), "1");
  assert_string_equal(wt_text(db, "SELECT status || '/' || reason FROM deliveries WHERE id = $1",
                           ids[1]), "skipped/user_inactive");
  /* scheduled for later: back to the delayed set at its due time, not sent */
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           ids[2]), "scheduled/0");
  const char *argv[] = {"ZSCORE", "herald:delayed:{email}", ids[2]};
  redisReply *reply = NULL;
  assert_int_equal(h_redis_argv(wt_redis(), &reply, 3, argv), H_OK);
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  double due = atof(wt_text(db, "SELECT extract(epoch FROM due_at) FROM deliveries WHERE id = $1",
                         ids[2]));
  assert_true(atof(reply->str) > due - 1 && atof(reply->str) < due + 1);
  freeReplyObject(reply);
  assert_string_equal(wt_text(db, "SELECT status || '/' || attempts FROM deliveries WHERE id = $1",
                           other[0]), "queued/0");
  assert_int_equal(wt_llen("herald:q:{email}"), 0);
  assert_int_equal(wt_processing("email"), 0);
  wt_free_ids(ids);
  wt_free_ids(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_smtp_sends_mime, before),
    cmocka_unit_test_setup(test_file_provider, before),
    cmocka_unit_test_setup(test_text_only_gets_html_and_one_click, before),
    cmocka_unit_test_setup(test_template_email_part, before),
    cmocka_unit_test_setup(test_5xx_is_permanent, before),
    cmocka_unit_test_setup(test_transient_failures_retry, before),
    cmocka_unit_test_setup(test_starttls_auth_and_smtps, before),
    cmocka_unit_test_setup(test_duplicates_inactive_and_not_due, before),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

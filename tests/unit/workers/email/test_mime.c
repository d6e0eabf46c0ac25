/* Unit: MIME building for herald-email (quoted-printable, RFC 2047 headers,
 * mailboxes, dates, multipart structure) and the rendered message of a job. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "email.h"
#include "html.h"
#include "mime.h"
#include "crypto/unsubscribe.h"

static void test_qp(void **state) {
  (void)state;
  char *s = h_mime_qp("a=b\nend with space \r\ncaf\xc3\xa9\n");
  assert_string_equal(s, "a=3Db\r\nend with space=20\r\ncaf=C3=A9\r\n");
  free(s);
  char longline[301];
  memset(longline, 'x', 300);
  longline[300] = '\0';
  s = h_mime_qp(longline);
  size_t xs = 0;
  for (char *line = s; *line != '\0';) {
    size_t n = strcspn(line, "\r");
    assert_true(n <= 76);
    for (size_t i = 0; i < n; i++) {
      xs += line[i] == 'x';
    }
    assert_memory_equal(line + n, "\r\n", 2);
    line += n + 2;
  }
  assert_int_equal(xs, 300); /* soft breaks lose nothing */
  free(s);
}

/* Decodes quoted-printable (soft breaks dropped, CRLF kept as LF); caller frees. */
static char *qp_decode(const char *s) {
  char *out = h_malloc(strlen(s) + 1);
  size_t n = 0;
  while (*s != '\0') {
    if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
      s += 3;
    } else if (s[0] == '=') {
      char hex[3] = {s[1], s[2], '\0'};
      out[n++] = (char)strtol(hex, NULL, 16);
      s += 3;
    } else if (s[0] == '\r' && s[1] == '\n') {
      out[n++] = '\n';
      s += 2;
    } else {
      out[n++] = *s++;
    }
  }
  out[n] = '\0';
  return out;
}

/* The worst cases for the output's size (every byte encoded, every byte a newline) come
 * back byte for byte, with no line over 76 characters. */
static void test_qp_worst_cases(void **state) {
  (void)state;
  char enc[2001], nl[2001], mixed[2001];
  for (int i = 0; i < 2000; i++) {
    enc[i] = (char)(i % 200 == 199 ? '\n' : 0x80 + i % 100);
    nl[i] = '\n';
    mixed[i] = (char)(i % 3 == 0 ? '=' : i % 7 == 0 ? ' ' : 'a' + i % 26);
  }
  mixed[1999] = '\n'; /* every line of the output ends in CRLF, the last one too */
  enc[2000] = nl[2000] = mixed[2000] = '\0';
  const char *inputs[] = {enc, nl, mixed};
  for (int k = 0; k < 3; k++) {
    char *q = h_mime_qp(inputs[k]);
    for (const char *line = q; *line != '\0';) {
      size_t n = strcspn(line, "\r");
      assert_true(n <= 76);
      assert_memory_equal(line + n, "\r\n", 2);
      line += n + 2;
    }
    char *back = qp_decode(q);
    assert_string_equal(back, inputs[k]);
    free(back);
    free(q);
  }
  char *empty = h_mime_qp("");
  assert_string_equal(empty, "");
  free(empty);
}

/* Decodes every encoded-word of a header value back to UTF-8 (caller frees). */
static char *decode_words(const char *v) {
  char *out = h_calloc(1, strlen(v) + 1);
  size_t len = 0;
  const char *p = v;
  while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
    p += 10;
    const char *end = strstr(p, "?=");
    unsigned char buf[256];
    int n = EVP_DecodeBlock(buf, (const unsigned char *)p, (int)(end - p));
    while (n > 0 && (end - p) >= 2 && end[-1] == '=' && buf[n - 1] == 0) {
      n--; /* padding decodes to NULs */
      end--;
    }
    /* every word must hold whole UTF-8 characters: no continuation byte first */
    assert_true(n == 0 || (buf[0] & 0xC0) != 0x80);
    memcpy(out + len, buf, (size_t)n);
    len += (size_t)n;
    p = strstr(p, "?=") + 2;
  }
  out[len] = '\0';
  return out;
}

static void test_header_encoding(void **state) {
  (void)state;
  char *v = h_mime_header_value("Hello", 9);
  assert_string_equal(v, "Hello");
  free(v);
  const char *utf8 = "R\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
                     "and a rather long tail that needs several encoded words \xf0\x9f\x98\x80";
  v = h_mime_header_value(utf8, 9);
  assert_memory_equal(v, "=?UTF-8?B?", 10);
  size_t first = strcspn(v, "\r");
  assert_true(first + 9 <= 78);
  char *back = decode_words(v);
  assert_string_equal(back, utf8);
  free(back);
  free(v);
  /* header injection: CR/LF never survive except as folding */
  v = h_mime_header_value("hi\r\nBcc: victim@example.com", 9);
  assert_null(strstr(v, "\nBcc"));
  free(v);
  /* long ASCII folds at spaces, lines <= 78 */
  v = h_mime_header_value("word word word word word word word word word word word word word "
                          "word word word word word word", 9);
  assert_non_null(strstr(v, "\r\n "));
  assert_true(strcspn(v, "\r") + 9 <= 78);
  free(v);
}

static void test_mailbox(void **state) {
  (void)state;
  char *m = h_mime_mailbox("Jane \"JD\" Doe", "jane@example.com");
  assert_string_equal(m, "\"Jane \\\"JD\\\" Doe\" <jane@example.com>");
  free(m);
  m = h_mime_mailbox("Zo\xc3\xab", "z@example.com");
  assert_string_equal(m, "=?UTF-8?B?Wm/Dqw==?= <z@example.com>");
  free(m);
  m = h_mime_mailbox(NULL, "z@example.com");
  assert_string_equal(m, "z@example.com");
  free(m);
  char name[64], addr[64];
  assert_true(h_mime_parse_mailbox("Herald <no-reply@herald.local>", name, 64, addr, 64));
  assert_string_equal(name, "Herald");
  assert_string_equal(addr, "no-reply@herald.local");
  assert_true(h_mime_parse_mailbox("\"Ops Team\" <ops@x.io>", name, 64, addr, 64));
  assert_string_equal(name, "Ops Team");
  assert_true(h_mime_parse_mailbox("a@b.c", name, 64, addr, 64));
  assert_string_equal(name, "");
  assert_false(h_mime_parse_mailbox("nobody", name, 64, addr, 64));
  assert_false(h_mime_parse_mailbox("x <a b@c>", name, 64, addr, 64));
  assert_false(h_mime_parse_mailbox("x <a@b", name, 64, addr, 64));
  assert_false(h_mime_address_ok("a@b\r\nRCPT TO:<c@d>"));
  assert_false(h_mime_address_ok("@b"));
  assert_true(h_mime_address_ok("first.last+tag@example.co.uk"));
}

static void test_date(void **state) {
  (void)state;
  char d[40];
  h_mime_date(0, d);
  assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
  h_mime_date(1767225600 + 86399, d); /* 2026-01-01 23:59:59 */
  assert_string_equal(d, "Thu, 01 Jan 2026 23:59:59 +0000");
}

static void assert_crlf_only(const char *msg) {
  for (const char *p = msg; *p != '\0'; p++) {
    if (*p == '\n') {
      assert_true(p > msg && p[-1] == '\r');
    }
  }
}

static void test_build(void **state) {
  (void)state;
  const char *extra[] = {"X-Herald-Delivery-Id: d1", NULL};
  struct h_mime_message m = {
    .from = "\"Herald\" <no-reply@herald.local>", .to_addr = "u@example.com", .to_name = "U",
    .subject = "Hi", .text = "plain\nbody", .html = "<p>html</p>", .message_id = "d1@herald.local",
    .date = 0, .list_unsubscribe = "https://app/unsub", .extra_headers = extra, .boundary = "=_B"};
  char *msg = h_mime_build(&m);
  assert_crlf_only(msg);
  assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
  assert_non_null(strstr(msg, "Content-Type: multipart/alternative; boundary=\"=_B\"\r\n"));
  assert_non_null(strstr(msg, "\r\n--=_B\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
  assert_non_null(strstr(msg, "\r\n--=_B\r\nContent-Type: text/html; charset=UTF-8\r\n"));
  assert_non_null(strstr(msg, "\r\n--=_B--\r\n"));
  assert_non_null(strstr(msg, "Message-ID: <d1@herald.local>\r\n"));
  assert_non_null(strstr(msg, "List-Unsubscribe: <https://app/unsub>\r\n"));
  assert_null(strstr(msg, "List-Unsubscribe-Post")); /* not a one-click link */
  assert_non_null(strstr(msg, "X-Herald-Delivery-Id: d1\r\n"));
  assert_non_null(strstr(msg, "plain\r\nbody\r\n"));
  free(msg);
  m.html = NULL;
  m.list_unsubscribe = NULL;
  msg = h_mime_build(&m);
  assert_null(strstr(msg, "multipart"));
  assert_null(strstr(msg, "List-Unsubscribe"));
  assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n\r\nplain"));
  free(msg);
}

static void test_render_job(void **state) {
  (void)state;
  setenv("HERALD_EMAIL_FROM", "Herald Team <team@mail.example>", 1);
  setenv("HERALD_PUBLIC_URL", "https://app.example", 1);
  struct h_config cfg;
  char *error = NULL;
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  struct h_provider_set set = {0};
  assert_int_equal(h_email_create(&cfg, &set, &error), H_OK);
  assert_int_equal(set.n, 1);
  assert_false(set.breakers);
  const struct h_provider *provider = set.providers[0];
  void *shared = set.shared[0];
  assert_string_equal(provider->name, "file");
  struct h_job job = {.id = "0b6b3a2e-3c4f-4d8e-9f00-000000000001", .email = "u@example.com",
                      .category = "news", .title = "T", .body = "B"};
  char *msg = h_email_render(shared, &job, "=_X");
  assert_non_null(strstr(msg, "From: \"Herald Team\" <team@mail.example>\r\n"));
  assert_non_null(strstr(msg, "Message-ID: <0b6b3a2e-3c4f-4d8e-9f00-000000000001@mail.example>"));
  /* no user (no signed link possible): the settings page, no one-click */
  assert_non_null(strstr(msg, "List-Unsubscribe: <https://app.example/settings/notifications"
                              "?category=news>"));
  assert_null(strstr(msg, "List-Unsubscribe-Post"));
  assert_non_null(strstr(msg, "Content-Type: multipart/alternative; boundary=\"=_X\""));
  free(msg);
  /* a user and a secret: the signed one-click link (the vector: Python's hmac) */
  snprintf(job.user_id, sizeof(job.user_id), "%s", "0b6b3a2e-3c4f-4d8e-9f00-000000000001");
  free(cfg.unsubscribe_secret);
  cfg.unsubscribe_secret = h_strdup("unit-test-unsubscribe-secret-0123456789ab");
  msg = h_email_render(shared, &job, "=_X");
  assert_non_null(strstr(msg, "List-Unsubscribe: <https://app.example/api/v1/unsubscribe?user="
                              "0b6b3a2e-3c4f-4d8e-9f00-000000000001&category=news&sig="
                              "60d0a11ec7cae531151a519dd7faabc5a7130b099d8790115b3c90a23c05bd9a>"
                              "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  free(msg);
  job.category = "account"; /* transactional: no List-Unsubscribe */
  msg = h_email_render(shared, &job, "=_X");
  assert_null(strstr(msg, "List-Unsubscribe"));
  free(msg);
  provider->destroy(shared);
  setenv("HERALD_EMAIL_FROM", "not an address", 1);
  memset(&set, 0, sizeof(set));
  assert_int_equal(h_email_create(&cfg, &set, &error), H_OK); /* cfg unchanged */
  set.providers[0]->destroy(set.shared[0]);
  h_config_free(&cfg);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  memset(&set, 0, sizeof(set));
  assert_int_equal(h_email_create(&cfg, &set, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_EMAIL_FROM"));
  free(error);
  h_config_free(&cfg);
}

static void test_html_paragraphs(void **state) {
  (void)state;
  static const char *const cases[][2] = {
    {NULL, ""},
    {"", ""},
    {"\n \n\t\n", ""},
    {"one", "<p style=\"margin:0 0 16px\">one</p>\n"},
    {"a\r\nb\r\n\r\n\r\nc", "<p style=\"margin:0 0 16px\">a<br>\nb</p>\n"
                             "<p style=\"margin:0 0 16px\">c</p>\n"},
    {"<script>alert('x')</script> & \"q\"",
     "<p style=\"margin:0 0 16px\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
     "&quot;q&quot;</p>\n"},
    {"https://a.example/p?q=1&r=2.", "<p style=\"margin:0 0 16px\"><a href=\"https://a.example/"
     "p?q=1&amp;r=2\" style=\"color:#2563eb\">https://a.example/p?q=1&amp;r=2</a>.</p>\n"},
    {"(see http://x.example)", "<p style=\"margin:0 0 16px\">(see <a href=\"http://x.example\" "
     "style=\"color:#2563eb\">http://x.example</a>)</p>\n"},
    {"javascript:alert(1) http:// ftp://x nothttps://y.example",
     "<p style=\"margin:0 0 16px\">javascript:alert(1) http:// ftp://x "
     "nothttps://y.example</p>\n"},
    {"https://x.example/\"onmouseover=\"a", "<p style=\"margin:0 0 16px\"><a href=\"https://"
     "x.example/\" style=\"color:#2563eb\">https://x.example/</a>&quot;onmouseover=&quot;a</p>\n"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *got = h_email_html_paragraphs(cases[i][0]);
    if (strcmp(got, cases[i][1]) != 0) {
      fail_msg("case %zu: got\n%s\nwant\n%s", i, got, cases[i][1]);
    }
    free(got);
  }
}

static void test_html_page(void **state) {
  (void)state;
  struct h_email_html in = {.title = "Caf\xc3\xa9 <news>", .text = "Body",
                            .product = "Acme & Co", .action_url = "https://app.example/n/1",
                            .unsubscribe_url = "https://h.example/u?a=1&b=2"};
  char *page = h_email_html_render(&in);
  assert_non_null(strstr(page, "<title>Caf\xc3\xa9 &lt;news&gt;</title>"));
  assert_non_null(strstr(page, "<meta name=\"viewport\" content=\"width=device-width"));
  assert_non_null(strstr(page, "max-width:600px"));
  assert_non_null(strstr(page, ">Acme &amp; Co</td>"));
  assert_non_null(strstr(page, "Sent by Acme &amp; Co."));
  assert_non_null(strstr(page, "<a href=\"https://app.example/n/1\""));
  assert_non_null(strstr(page, "<a href=\"https://h.example/u?a=1&amp;b=2\""));
  free(page);
  in.action_url = "javascript:alert(1)"; /* only http(s) becomes a button */
  in.unsubscribe_url = NULL;
  in.title = NULL;
  page = h_email_html_render(&in);
  assert_null(strstr(page, "javascript:"));
  assert_null(strstr(page, "Unsubscribe"));
  assert_null(strstr(page, "<h1"));
  free(page);
}

static void test_unsubscribe_links(void **state) {
  (void)state;
  struct h_config cfg = {0};
  cfg.unsubscribe_secret = "";
  cfg.jwt_secret = "";
  cfg.public_url = "https://h.example//";
  struct h_unsubscribe_key key;
  assert_false(h_unsubscribe_key_from_config(&cfg, &key)); /* no secret: no links */
  assert_null(h_unsubscribe_url(&cfg, "u", "news"));
  cfg.jwt_secret = "unit-test-unsubscribe-secret-0123456789ab"; /* the fallback */
  assert_true(h_unsubscribe_key_from_config(&cfg, &key));
  const char *user = "0b6b3a2e-3c4f-4d8e-9f00-000000000001";
  const char *sig = "60d0a11ec7cae531151a519dd7faabc5a7130b099d8790115b3c90a23c05bd9a";
  assert_true(h_unsubscribe_verify(&key, user, "news", sig));
  assert_false(h_unsubscribe_verify(&key, user, "news2", sig));
  assert_false(h_unsubscribe_verify(&key, "0b6b3a2e-3c4f-4d8e-9f00-000000000002", "news", sig));
  assert_false(h_unsubscribe_verify(&key, user, "news", NULL));
  assert_false(h_unsubscribe_verify(&key, user, "news", ""));
  assert_false(h_unsubscribe_verify(&key, user, "news",
                                    "60D0A11EC7CAE531151A519DD7FAABC5A7130B099D8790115B3C90A23C05BD9A"));
  char *url = h_unsubscribe_url(&cfg, user, "a b");
  assert_non_null(strstr(url, "https://h.example/api/v1/unsubscribe?user="));
  assert_non_null(strstr(url, "&category=a%20b&sig="));
  free(url);
  cfg.unsubscribe_secret = "another-secret-of-at-least-thirty-two-bytes";
  assert_true(h_unsubscribe_key_from_config(&cfg, &key));
  assert_false(h_unsubscribe_verify(&key, user, "news", sig)); /* its own secret wins */
}

static void expect_config_error(const char *name, const char *value, const char *want) {
  struct h_config cfg;
  char *error = NULL;
  setenv(name, value, 1);
  assert_int_equal(h_config_load(&cfg, &error), H_ERR_INVALID);
  if (strstr(error, want) == NULL) {
    fail_msg("%s=%s: %s", name, value, error);
  }
  free(error);
  unsetenv(name);
}

static void test_config_checks(void **state) {
  (void)state;
  expect_config_error("HERALD_PRODUCT_NAME", "", "HERALD_PRODUCT_NAME");
  expect_config_error("HERALD_PRODUCT_NAME", "Acme\r\nBcc: x@y", "HERALD_PRODUCT_NAME");
  expect_config_error("HERALD_PRODUCT_NAME",
                      "0123456789012345678901234567890123456789012345678901234567890123456789",
                      "1-64");
  expect_config_error("HERALD_UNSUBSCRIBE_SECRET", "short", "at least 32 bytes");
  struct h_config cfg;
  char *error = NULL;
  setenv("HERALD_PRODUCT_NAME", "Acme \xe2\x80\x94 Alerts", 1);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_string_equal(cfg.product_name, "Acme \xe2\x80\x94 Alerts");
  h_config_free(&cfg);
  unsetenv("HERALD_PRODUCT_NAME");
}

int main(void) {
  h_alloc_install();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_qp),      cmocka_unit_test(test_qp_worst_cases),
    cmocka_unit_test(test_header_encoding),
    cmocka_unit_test(test_mailbox), cmocka_unit_test(test_date),
    cmocka_unit_test(test_build),   cmocka_unit_test(test_render_job),
    cmocka_unit_test(test_html_paragraphs), cmocka_unit_test(test_html_page),
    cmocka_unit_test(test_unsubscribe_links), cmocka_unit_test(test_config_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

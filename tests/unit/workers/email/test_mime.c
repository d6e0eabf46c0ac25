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
#include "mime.h"

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
  const struct h_provider *provider = NULL;
  void *shared = NULL;
  assert_int_equal(h_email_create(&cfg, &provider, &shared, &error), H_OK);
  assert_string_equal(provider->name, "file");
  struct h_job job = {.id = "0b6b3a2e-3c4f-4d8e-9f00-000000000001", .email = "u@example.com",
                      .category = "news", .title = "T", .body = "B"};
  char *msg = h_email_render(shared, &job, "=_X");
  assert_non_null(strstr(msg, "From: \"Herald Team\" <team@mail.example>\r\n"));
  assert_non_null(strstr(msg, "Message-ID: <0b6b3a2e-3c4f-4d8e-9f00-000000000001@mail.example>"));
  assert_non_null(strstr(msg, "List-Unsubscribe: <https://app.example/settings/notifications"
                              "?category=news>"));
  free(msg);
  job.category = "account"; /* transactional: no List-Unsubscribe */
  msg = h_email_render(shared, &job, "=_X");
  assert_null(strstr(msg, "List-Unsubscribe"));
  free(msg);
  provider->destroy(shared);
  setenv("HERALD_EMAIL_FROM", "not an address", 1);
  assert_int_equal(h_email_create(&cfg, &provider, &shared, &error), H_OK); /* cfg unchanged */
  provider->destroy(shared);
  h_config_free(&cfg);
  assert_int_equal(h_config_load(&cfg, &error), H_OK);
  assert_int_equal(h_email_create(&cfg, &provider, &shared, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_EMAIL_FROM"));
  free(error);
  h_config_free(&cfg);
}

int main(void) {
  h_alloc_install();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_qp),      cmocka_unit_test(test_header_encoding),
    cmocka_unit_test(test_mailbox), cmocka_unit_test(test_date),
    cmocka_unit_test(test_build),   cmocka_unit_test(test_render_job),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

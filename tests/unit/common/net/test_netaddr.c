/* Unit tests: the webhook URL and address checks (common/net/netaddr.h), on literal
 * addresses only: nothing here resolves a name or opens a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/netaddr.h"

static void test_refused_literals(void **state) {
  (void)state;
  static const struct { const char *ip, *reason; } refused[] = {
    {"127.0.0.1", "loopback"},          {"127.255.255.254", "loopback"},
    {"::1", "loopback"},                {"0.0.0.0", "unspecified"},
    {"::", "unspecified"},              {"10.1.2.3", "private"},
    {"172.16.0.1", "private"},          {"172.31.255.255", "private"},
    {"192.168.1.1", "private"},         {"169.254.169.254", "link_local"},
    {"169.254.0.1", "link_local"},      {"100.64.0.1", "cgnat"},
    {"100.127.255.255", "cgnat"},       {"100.100.100.200", "cgnat"},
    {"fe80::1", "link_local"},          {"fc00::1", "unique_local"},
    {"fd00:ec2::254", "unique_local"},  {"::ffff:127.0.0.1", "ipv4_mapped"},
    {"::ffff:8.8.8.8", "ipv4_mapped"},  {"::127.0.0.1", "ipv4_compatible"},
    {"64:ff9b::a00:1", "nat64"},        {"2002:7f00:1::", "6to4"},
    {"2001:0:4136:e378::1", "teredo"},  {"224.0.0.1", "multicast"},
    {"ff02::1", "multicast"},           {"255.255.255.255", "reserved"},
    {"240.0.0.1", "reserved"},          {"198.18.0.1", "reserved"},
    {"192.0.2.1", "documentation"},     {"2001:db8::1", "documentation"},
    {"fec0::1", "site_local"},
  };
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    const char *why = h_net_literal_refusal(refused[i].ip, NULL);
    if (why == NULL || strcmp(why, refused[i].reason) != 0) {
      fail_msg("%s: %s, expected %s", refused[i].ip, why ? why : "allowed", refused[i].reason);
    }
  }
}

static void test_public_literals(void **state) {
  (void)state;
  const char *ok[] = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1",
                      "100.63.255.255", "169.253.1.1", "11.0.0.1", "2606:4700:4700::1111",
                      "2a00:1450:4001::200e", NULL};
  for (int i = 0; ok[i] != NULL; i++) {
    const char *why = h_net_literal_refusal(ok[i], NULL);
    if (why != NULL) {
      fail_msg("%s refused: %s", ok[i], why);
    }
  }
  assert_string_equal(h_net_literal_refusal("localhost", NULL), "not_an_address");
  assert_string_equal(h_net_literal_refusal("1.2.3", NULL), "not_an_address");
  assert_string_equal(h_net_literal_refusal(NULL, NULL), "not_an_address");
}

static void test_allow_list(void **state) {
  (void)state;
  struct h_net_allow allow;
  char *error = NULL;
  assert_int_equal(h_net_allow_parse(" 127.0.0.1/32 , ::1 ,10.8.0.0/16", &allow, &error), H_OK);
  assert_int_equal(allow.n, 3);
  assert_null(h_net_literal_refusal("127.0.0.1", &allow));
  assert_string_equal(h_net_literal_refusal("127.0.0.2", &allow), "loopback");
  assert_null(h_net_literal_refusal("::1", &allow));
  assert_null(h_net_literal_refusal("10.8.200.1", &allow));
  assert_string_equal(h_net_literal_refusal("10.9.0.1", &allow), "private");
  assert_string_equal(h_net_literal_refusal("169.254.169.254", &allow), "link_local");
  h_net_allow_free(&allow);
  assert_int_equal(h_net_allow_parse("", &allow, &error), H_OK);
  assert_int_equal(allow.n, 0);
  const char *bad[] = {"127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "host",
                       "10.0.0", "1.2.3.4/-1", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_int_equal(h_net_allow_parse(bad[i], &allow, &error), H_ERR_INVALID);
    assert_non_null(error);
    free(error);
    error = NULL;
  }
}

static void test_sockaddr(void **state) {
  (void)state;
  struct sockaddr_in in = {.sin_family = AF_INET};
  inet_pton(AF_INET, "10.0.0.1", &in.sin_addr);
  assert_string_equal(h_net_refusal((struct sockaddr *)&in, NULL), "private");
  struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "::ffff:169.254.169.254", &in6.sin6_addr);
  assert_string_equal(h_net_refusal((struct sockaddr *)&in6, NULL), "ipv4_mapped");
  inet_pton(AF_INET6, "2606:4700::1", &in6.sin6_addr);
  assert_null(h_net_refusal((struct sockaddr *)&in6, NULL));
  struct sockaddr other = {.sa_family = AF_UNIX};
  assert_string_equal(h_net_refusal(&other, NULL), "unsupported_family");
}

static void test_urls(void **state) {
  (void)state;
  struct h_net_target t;
  const char *reason = NULL;
  assert_int_equal(h_net_parse_url("https://hooks.example.com/a?b=1", false, &t, &reason), H_OK);
  assert_string_equal(t.host, "hooks.example.com");
  assert_int_equal(t.port, 443);
  assert_true(t.https);
  assert_false(t.literal);
  assert_int_equal(h_net_parse_url("https://[::1]:8443/x", false, &t, &reason), H_OK);
  assert_string_equal(t.host, "::1");
  assert_int_equal(t.port, 8443);
  assert_true(t.literal);
  assert_int_equal(h_net_parse_url("http://127.0.0.1:9/x", false, &t, &reason), H_ERR_INVALID);
  assert_string_equal(reason, "https_required");
  assert_int_equal(h_net_parse_url("http://127.0.0.1:9/x", true, &t, &reason), H_OK);
  assert_int_equal(t.port, 9);
  assert_int_equal(h_net_parse_url("https://u:p@example.com/", false, &t, &reason),
                   H_ERR_INVALID);
  assert_string_equal(reason, "credentials_in_url");
  const char *bad[] = {"ftp://example.com/", "example.com/x", "https://", "https://:443/x",
                       "https://example.com/#frag", "https://exa mple.com/", "gopher://x/",
                       "file:///etc/passwd", "https://[fe80::1%25eth0]/", "", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    if (h_net_parse_url(bad[i], true, &t, &reason) != H_ERR_INVALID) {
      fail_msg("accepted %s", bad[i]);
    }
  }
}

static void test_resolve_literals(void **state) {
  (void)state;
  struct h_net_target t;
  const char *reason = NULL;
  char addr[64];
  struct h_net_allow allow;
  char *error = NULL;
  assert_int_equal(h_net_allow_parse("127.0.0.1/32", &allow, &error), H_OK);
  assert_int_equal(h_net_parse_url("https://169.254.169.254/latest", false, &t, &reason), H_OK);
  assert_int_equal(h_net_resolve_checked(&t, &allow, addr, &reason), H_ERR_FORBIDDEN);
  assert_string_equal(reason, "link_local");
  assert_int_equal(h_net_parse_url("https://127.0.0.1:1/", false, &t, &reason), H_OK);
  assert_int_equal(h_net_resolve_checked(&t, &allow, addr, &reason), H_OK);
  assert_string_equal(addr, "127.0.0.1");
  assert_int_equal(h_net_resolve_checked(&t, NULL, addr, &reason), H_ERR_FORBIDDEN);
  assert_string_equal(reason, "loopback");
  h_net_allow_free(&allow);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_refused_literals), cmocka_unit_test(test_public_literals),
    cmocka_unit_test(test_allow_list),       cmocka_unit_test(test_sockaddr),
    cmocka_unit_test(test_urls),             cmocka_unit_test(test_resolve_literals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

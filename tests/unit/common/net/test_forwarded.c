/* Unit tests: the client address behind trusted proxies (common/net/forwarded.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/forwarded.h"

static const char *client(const char *trusted, const char *peer, const char *xff) {
  static char out[64];
  h_forwarded_client(trusted, peer, xff, out, sizeof(out));
  return out;
}

static void test_config_check(void **state) {
  (void)state;
  assert_null(h_forwarded_config_check(""));
  assert_null(h_forwarded_config_check("10.0.0.1"));
  assert_null(h_forwarded_config_check("10.0.0.0/8, 192.168.1.7 ,127.0.0.1/32,0.0.0.0/0"));
  const char *bad[] = {"10.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/a", "host", "10.0.0.1,",
                       "::1", "10.0.0.0/100", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    char *msg = h_forwarded_config_check(bad[i]);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "HERALD_TRUSTED_PROXIES"));
    free(msg);
  }
}

static void test_trusted(void **state) {
  (void)state;
  assert_true(h_forwarded_trusted("10.0.0.0/8", "10.200.3.4"));
  assert_false(h_forwarded_trusted("10.0.0.0/8", "11.0.0.1"));
  assert_true(h_forwarded_trusted("192.168.1.7", "192.168.1.7"));
  assert_false(h_forwarded_trusted("192.168.1.7", "192.168.1.8"));
  assert_true(h_forwarded_trusted("0.0.0.0/0", "8.8.8.8"));
  assert_false(h_forwarded_trusted("", "127.0.0.1"));
  assert_false(h_forwarded_trusted("127.0.0.1", NULL));
}

static void test_client(void **state) {
  (void)state;
  const char *lb = "10.0.0.0/8";
  /* No trust configured, or an untrusted peer: the header is ignored. */
  assert_string_equal(client("", "10.0.0.5", "1.2.3.4"), "10.0.0.5");
  assert_string_equal(client(lb, "9.9.9.9", "1.2.3.4"), "9.9.9.9");
  /* From the load balancer: the client it saw. */
  assert_string_equal(client(lb, "10.0.0.5", "1.2.3.4"), "1.2.3.4");
  assert_string_equal(client(lb, "10.0.0.5", " 1.2.3.4 "), "1.2.3.4");
  /* A forged left part is ignored: the right-most untrusted hop counts. */
  assert_string_equal(client(lb, "10.0.0.5", "6.6.6.6, 1.2.3.4"), "1.2.3.4");
  /* Chains of trusted proxies are walked through. */
  assert_string_equal(client(lb, "10.0.0.5", "1.2.3.4, 10.1.1.1"), "1.2.3.4");
  /* All trusted: the left-most. */
  assert_string_equal(client(lb, "10.0.0.5", "10.9.9.9,10.1.1.1"), "10.9.9.9");
  /* Malformed entries stop the walk at the last good address to their right. */
  assert_string_equal(client(lb, "10.0.0.5", "1.2.3.4, garbage"), "10.0.0.5");
  assert_string_equal(client(lb, "10.0.0.5", "garbage, 10.1.1.1"), "10.1.1.1");
  assert_string_equal(client(lb, "10.0.0.5", ""), "10.0.0.5");
  assert_string_equal(client(lb, "10.0.0.5", ","), "10.0.0.5");
  assert_string_equal(client(lb, "10.0.0.5", NULL), "10.0.0.5");
}

static void test_ipv6_client(void **state) {
  (void)state;
  assert_string_equal(client("127.0.0.1", "127.0.0.1", "2001:DB8::1"), "2001:db8::1");
  assert_string_equal(client("127.0.0.1", "127.0.0.1", "10.1.1.1, [2001:db8::2]"), "2001:db8::2");
  assert_string_equal(client("127.0.0.1", "127.0.0.1", "2001:db8::zz"), "127.0.0.1");
}

static const char *bucket(const char *ip) {
  static char out[64];
  h_forwarded_bucket(ip, out, sizeof(out));
  return out;
}

static void test_bucket(void **state) {
  (void)state;
  assert_string_equal(bucket("203.0.113.9"), "203.0.113.9");
  assert_string_equal(bucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  assert_string_equal(bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert_string_equal(bucket("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  assert_string_equal(bucket("::ffff:198.51.100.7"), "198.51.100.7");
  assert_string_equal(bucket("unknown"), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_config_check),
    cmocka_unit_test(test_trusted),
    cmocka_unit_test(test_client),
    cmocka_unit_test(test_ipv6_client),
    cmocka_unit_test(test_bucket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

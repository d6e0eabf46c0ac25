/* Unit tests: Sentinel list and reply parsing, configuration checks, and the
 * resolve loop against a fake sentinel on loopback (falls through a dead one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "store/redis_sentinel.h"

static void test_parse_list(void **state) {
  (void)state;
  struct h_sentinel_addr a[H_SENTINEL_MAX];
  int n = -1;
  assert_int_equal(h_sentinel_parse_list("127.0.0.1:26379", a, H_SENTINEL_MAX, &n), H_OK);
  assert_int_equal(n, 1);
  assert_string_equal(a[0].host, "127.0.0.1");
  assert_int_equal(a[0].port, 26379);
  assert_int_equal(h_sentinel_parse_list(" s1:1 , s2 ,[::1]:3", a, H_SENTINEL_MAX, &n), H_OK);
  assert_int_equal(n, 3);
  assert_string_equal(a[0].host, "s1");
  assert_int_equal(a[0].port, 1);
  assert_string_equal(a[1].host, "s2");
  assert_int_equal(a[1].port, H_SENTINEL_DEFAULT_PORT);
  assert_string_equal(a[2].host, "::1");
  assert_int_equal(a[2].port, 3);
}

static void test_parse_list_rejects(void **state) {
  (void)state;
  struct h_sentinel_addr a[2];
  int n = -1;
  const char *bad[] = {"",      "h:0",     "h:65536", "h:12x", "h:",      ":1",      "a,,b",
                       "h:1,",  "[::1",    "[]:1",    "a b:1", "[::1]x",  "h:-1",    "h:1234567",
                       "a,b,c", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_int_equal(h_sentinel_parse_list(bad[i], a, 2, &n), H_ERR_INVALID);
    assert_int_equal(n, 0);
  }
  assert_int_equal(h_sentinel_parse_list(NULL, a, 2, &n), H_ERR_INVALID);
}

/* A string reply element (static storage is enough for the parser). */
static redisReply str_reply(const char *s) {
  redisReply r;
  memset(&r, 0, sizeof(r));
  r.type = REDIS_REPLY_STRING;
  r.str = (char *)s;
  r.len = strlen(s);
  return r;
}

static void test_parse_master_reply(void **state) {
  (void)state;
  redisReply h = str_reply("10.0.0.7"), p = str_reply("6380");
  redisReply *elems[] = {&h, &p};
  redisReply arr;
  memset(&arr, 0, sizeof(arr));
  arr.type = REDIS_REPLY_ARRAY;
  arr.elements = 2;
  arr.element = elems;
  char host[64];
  int port = 0;
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, sizeof(host), &port), H_OK);
  assert_string_equal(host, "10.0.0.7");
  assert_int_equal(port, 6380);

  redisReply nil;
  memset(&nil, 0, sizeof(nil));
  nil.type = REDIS_REPLY_NIL;
  assert_int_equal(h_sentinel_parse_master_reply(&nil, host, sizeof(host), &port),
                   H_ERR_NOT_FOUND);
  assert_int_equal(h_sentinel_parse_master_reply(NULL, host, sizeof(host), &port), H_ERR_INVALID);
  assert_int_equal(h_sentinel_parse_master_reply(&h, host, sizeof(host), &port), H_ERR_INVALID);
  p = str_reply("0");
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, sizeof(host), &port), H_ERR_INVALID);
  p = str_reply("70000");
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, sizeof(host), &port), H_ERR_INVALID);
  p = str_reply("63a");
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, sizeof(host), &port), H_ERR_INVALID);
  p = str_reply("6380");
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, 4, &port), H_ERR_INVALID);
  arr.elements = 1;
  assert_int_equal(h_sentinel_parse_master_reply(&arr, host, sizeof(host), &port), H_ERR_INVALID);
}

static void test_role(void **state) {
  (void)state;
  redisReply m = str_reply("master"), s = str_reply("slave");
  redisReply *elems[] = {&m};
  redisReply arr;
  memset(&arr, 0, sizeof(arr));
  arr.type = REDIS_REPLY_ARRAY;
  arr.elements = 1;
  arr.element = elems;
  assert_true(h_sentinel_role_is_master(&arr));
  elems[0] = &s;
  assert_false(h_sentinel_role_is_master(&arr));
  arr.elements = 0;
  assert_false(h_sentinel_role_is_master(&arr));
  assert_false(h_sentinel_role_is_master(NULL));
}

static void test_config_check(void **state) {
  (void)state;
  assert_null(h_sentinel_config_check("", ""));
  assert_null(h_sentinel_config_check("a:1,b:2", "herald"));
  const char *cases[][3] = {
    {"a:1", "", "HERALD_REDIS_MASTER_NAME"},
    {"", "herald", "HERALD_REDIS_SENTINELS"},
    {"a:x", "herald", "HERALD_REDIS_SENTINELS"},
    {"a:1", "her ald", "HERALD_REDIS_MASTER_NAME"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *msg = h_sentinel_config_check(cases[i][0], cases[i][1]);
    assert_non_null(msg);
    assert_non_null(strstr(msg, cases[i][2]));
    free(msg);
  }
}

/* ---- a fake sentinel: answers every command with the reply given ---- */

struct fake {
  int fd;
  int port;
  const char *reply;
  int commands;
};

static void *fake_serve(void *arg) {
  struct fake *f = arg;
  int c = accept(f->fd, NULL, NULL);
  char buf[512];
  while (c >= 0 && read(c, buf, sizeof(buf)) > 0) {
    f->commands++;
    if (write(c, f->reply, strlen(f->reply)) < 0) {
      break;
    }
  }
  if (c >= 0) {
    close(c);
  }
  return NULL;
}

static int listen_loopback(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(sa);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(fd, 4), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  return fd;
}

static void test_resolve_skips_dead_sentinel(void **state) {
  (void)state;
  int dead_port = 0;
  close(listen_loopback(&dead_port)); /* a port nobody listens on any more */
  struct fake f = {.reply = "*2\r\n$9\r\n127.0.0.9\r\n$4\r\n6390\r\n"};
  f.fd = listen_loopback(&f.port);
  pthread_t th;
  pthread_create(&th, NULL, fake_serve, &f);

  struct h_redis_target t;
  memset(&t, 0, sizeof(t));
  t.timeout_ms = 500;
  snprintf(t.sentinels, sizeof(t.sentinels), "127.0.0.1:%d,127.0.0.1:%d", dead_port, f.port);
  snprintf(t.master_name, sizeof(t.master_name), "herald");
  char host[256];
  int port = 0;
  assert_int_equal(h_sentinel_resolve(&t, host, sizeof(host), &port), H_OK);
  assert_string_equal(host, "127.0.0.9");
  assert_int_equal(port, 6390);
  pthread_join(th, NULL);
  /* The answer is remembered for H_SENTINEL_RECHECK_MS: a connection to another address is
   * told to reconnect without asking the (now gone) sentinel again. */
  assert_true(h_sentinel_is_current(&t, "127.0.0.9:6390"));
  assert_false(h_sentinel_is_current(&t, "127.0.0.1:6379"));
  assert_int_equal(f.commands, 1);
  close(f.fd);

  /* Only dead sentinels: unavailable, not a crash or a hang. */
  snprintf(t.sentinels, sizeof(t.sentinels), "127.0.0.1:%d", dead_port);
  assert_int_equal(h_sentinel_resolve(&t, host, sizeof(host), &port), H_ERR_UNAVAILABLE);
}

static void test_resolve_unknown_master(void **state) {
  (void)state;
  struct fake f = {.reply = "*-1\r\n"}; /* nil: the sentinel does not know the name */
  f.fd = listen_loopback(&f.port);
  pthread_t th;
  pthread_create(&th, NULL, fake_serve, &f);
  struct h_redis_target t;
  memset(&t, 0, sizeof(t));
  t.timeout_ms = 500;
  snprintf(t.sentinels, sizeof(t.sentinels), "127.0.0.1:%d", f.port);
  snprintf(t.master_name, sizeof(t.master_name), "nope");
  char host[256];
  int port = 0;
  assert_int_equal(h_sentinel_resolve(&t, host, sizeof(host), &port), H_ERR_UNAVAILABLE);
  pthread_join(th, NULL);
  close(f.fd);
}

static void test_target_from_config(void **state) {
  (void)state;
  struct h_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.redis_url = "redis://:pw@ignored:1/3";
  cfg.redis_timeout_ms = 250;
  cfg.redis_sentinels = "s1:26379,s2:26380";
  cfg.redis_master_name = "herald";
  cfg.redis_sentinel_password = "spw";
  struct h_redis_target t;
  char *error = NULL;
  assert_int_equal(h_redis_target_from_config(&cfg, &t, &error), H_OK);
  assert_null(error);
  assert_string_equal(t.password, "pw");
  assert_int_equal(t.db, 3);
  assert_int_equal(t.timeout_ms, 250);
  assert_string_equal(t.sentinels, "s1:26379,s2:26380");
  assert_string_equal(t.master_name, "herald");
  assert_string_equal(t.sentinel_password, "spw");

  cfg.redis_master_name = "";
  assert_int_equal(h_redis_target_from_config(&cfg, &t, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_REDIS_MASTER_NAME"));
  free(error);
  cfg.redis_url = "http://:secret@x";
  assert_int_equal(h_redis_target_from_config(&cfg, &t, &error), H_ERR_INVALID);
  assert_non_null(strstr(error, "HERALD_REDIS_URL"));
  assert_null(strstr(error, "secret")); /* the URL is not echoed */
  free(error);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_list),
    cmocka_unit_test(test_parse_list_rejects),
    cmocka_unit_test(test_parse_master_reply),
    cmocka_unit_test(test_role),
    cmocka_unit_test(test_config_check),
    cmocka_unit_test(test_resolve_skips_dead_sentinel),
    cmocka_unit_test(test_resolve_unknown_master),
    cmocka_unit_test(test_target_from_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

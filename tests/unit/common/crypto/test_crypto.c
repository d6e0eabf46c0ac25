/* Unit tests: UUIDs, hashing, HMAC, constant-time compare, scrypt passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"

static void test_uuid(void **state) {
  (void)state;
  char a[37], b[37];
  assert_int_equal(h_uuid_v4(a), H_OK);
  assert_int_equal(h_uuid_v4(b), H_OK);
  assert_true(h_uuid_valid(a));
  assert_string_not_equal(a, b);
  assert_int_equal(a[14], '4');
  assert_true(strchr("89ab", a[19]) != NULL);
  assert_false(h_uuid_valid("not-a-uuid"));
  assert_false(h_uuid_valid("123e4567-e89b-12d3-a456-42661417400g"));
  assert_false(h_uuid_valid("123e4567e89b-12d3-a456-4266141740000"));
  assert_false(h_uuid_valid(NULL));
  assert_true(h_uuid_valid("123E4567-E89B-12D3-A456-426614174000"));
}

/* Request ids: valid v4 UUIDs, all different over many draws. */
static void test_uuid_fast(void **state) {
  (void)state;
  enum { N = 2000 };
  static char ids[N][37];
  for (int i = 0; i < N; i++) {
    h_uuid_v4_fast(ids[i]);
    assert_true(h_uuid_valid(ids[i]));
    assert_int_equal(ids[i][14], '4');
    assert_true(strchr("89ab", ids[i][19]) != NULL);
  }
  qsort(ids, N, sizeof(ids[0]), (int (*)(const void *, const void *))strcmp);
  for (int i = 1; i < N; i++) {
    assert_string_not_equal(ids[i - 1], ids[i]);
  }
}

/* The 48-bit millisecond prefix of a version 7 id. */
static uint64_t v7_ms(const char *id) {
  char hex[13];
  memcpy(hex, id, 8);
  memcpy(hex + 8, id + 9, 4);
  hex[12] = '\0';
  return strtoull(hex, NULL, 16);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Row ids: version 7, the RFC 4122 variant, the time of their making in the first 48 bits,
 * so ids made in a later millisecond sort after earlier ones; unique within a millisecond. */
static void test_uuid_v7(void **state) {
  (void)state;
  enum { N = 2000 };
  static char ids[N][37];
  uint64_t before = now_ms();
  for (int i = 0; i < N; i++) {
    assert_int_equal(h_uuid_v7(ids[i]), H_OK);
    assert_true(h_uuid_valid(ids[i]));
    assert_int_equal(ids[i][14], '7');
    assert_true(strchr("89ab", ids[i][19]) != NULL);
  }
  uint64_t after = now_ms();
  assert_true(v7_ms(ids[0]) >= before);
  assert_true(v7_ms(ids[N - 1]) <= after);
  for (int i = 1; i < N; i++) {
    assert_true(v7_ms(ids[i]) >= v7_ms(ids[i - 1]));
  }
  struct timespec pause = {0, 3 * 1000000};
  nanosleep(&pause, NULL);
  char later[37];
  assert_int_equal(h_uuid_v7(later), H_OK);
  assert_true(strcmp(later, ids[N - 1]) > 0);
  qsort(ids, N, sizeof(ids[0]), (int (*)(const void *, const void *))strcmp);
  for (int i = 1; i < N; i++) {
    assert_string_not_equal(ids[i - 1], ids[i]);
  }
}

/* A child process never repeats its parent's ids: the random part of the next id differs. */
static void test_uuid_v7_after_fork(void **state) {
  (void)state;
  char first[37], parent[37], child[37] = {0};
  assert_int_equal(h_uuid_v7(first), H_OK); /* this thread now holds random bytes for more */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    char id[37];
    _exit(h_uuid_v7(id) == H_OK && write(fds[1], id, sizeof(id)) == (ssize_t)sizeof(id) ? 0 : 1);
  }
  assert_int_equal(h_uuid_v7(parent), H_OK);
  assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_true(h_uuid_valid(child));
  assert_string_not_equal(parent + 14, child + 14); /* after the 48-bit time and the version */
}

static void test_sha256_known_vector(void **state) {
  (void)state;
  char hex[65];
  h_sha256_hex("abc", 3, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hmac_rfc4231_case2(void **state) {
  (void)state;
  unsigned char mac[32];
  char hex[65];
  h_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
  h_hex_encode(mac, 32, hex);
  assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_consttime(void **state) {
  (void)state;
  assert_true(h_consttime_eq("abc", 3, "abc", 3));
  assert_false(h_consttime_eq("abc", 3, "abd", 3));
  assert_false(h_consttime_eq("abc", 3, "abcd", 4));
}

static void test_random_token(void **state) {
  (void)state;
  char *t = h_random_token(32);
  assert_non_null(t);
  assert_int_equal(strlen(t), 43);
  assert_null(strpbrk(t, "+/="));
  free(t);
}

static void test_password_roundtrip(void **state) {
  (void)state;
  char *hash = NULL;
  assert_int_equal(h_password_hash("correct horse battery", &hash), H_OK);
  assert_true(strncmp(hash, "scrypt$32768$8$3$", 17) == 0);
  assert_true(h_password_verify("correct horse battery", hash));
  assert_false(h_password_verify("correct horse batterY", hash));
  assert_false(h_password_verify("", hash));
  char *again = NULL;
  assert_int_equal(h_password_hash("correct horse battery", &again), H_OK);
  assert_string_not_equal(hash, again); /* per-hash salt */
  free(again);
  free(hash);
}

/* New hashes use N=2^15, r=8, p=3; hashes made with the old N=2^14, p=1 still verify
 * and are reported for rehashing. */
static void test_password_parameters_and_rehash(void **state) {
  (void)state;
  char *hash = NULL, *old = NULL;
  assert_int_equal(h_password_hash("a long passphrase", &hash), H_OK);
  assert_true(strncmp(hash, "scrypt$32768$8$3$", 17) == 0);
  assert_false(h_password_needs_rehash(hash));
  assert_int_equal(h_password_hash_params("a long passphrase", 16384, 8, 1, &old), H_OK);
  assert_true(strncmp(old, "scrypt$16384$8$1$", 17) == 0);
  assert_true(h_password_verify("a long passphrase", old));
  assert_false(h_password_verify("another passphrase", old));
  assert_true(h_password_needs_rehash(old));
  assert_true(h_password_needs_rehash("plain"));
  assert_true(h_password_needs_rehash(NULL));
  free(hash);
  free(old);
}

static void *hash_twice(void *arg) {
  (void)arg;
  for (int i = 0; i < 2; i++) {
    char *h = NULL;
    assert_int_equal(h_password_hash_params("bounded", 2048, 8, 1, &h), H_OK);
    free(h);
  }
  return NULL;
}

/* Four times as many threads as hash slots hash at once: never more than the slots run. */
static void test_password_hashes_bounded(void **state) {
  (void)state;
  int slots = h_password_hash_slots();
  assert_true(slots >= 2);
  int n = 4 * slots;
  pthread_t *t = calloc((size_t)n, sizeof(*t));
  for (int i = 0; i < n; i++) {
    assert_int_equal(pthread_create(&t[i], NULL, hash_twice, NULL), 0);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
  }
  free(t);
  assert_true(h_password_hash_peak() >= 1);
  assert_true(h_password_hash_peak() <= slots);
}

static void test_password_malformed_hash(void **state) {
  (void)state;
  assert_false(h_password_verify("x", "plain"));
  assert_false(h_password_verify("x", "scrypt$3$8$1$c2FsdA$aGFzaA"));      /* N not 2^k */
  assert_false(h_password_verify("x", "scrypt$16384$99$1$c2FsdA$aGFzaA")); /* r too big */
  assert_false(h_password_verify("x", "scrypt$16384$8$1$$"));
  assert_false(h_password_verify(NULL, "scrypt$16384$8$1$c2FsdA$aGFzaA"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_uuid),
    cmocka_unit_test(test_uuid_fast),
    cmocka_unit_test(test_uuid_v7),
    cmocka_unit_test(test_uuid_v7_after_fork),
    cmocka_unit_test(test_sha256_known_vector),
    cmocka_unit_test(test_hmac_rfc4231_case2),
    cmocka_unit_test(test_consttime),
    cmocka_unit_test(test_random_token),
    cmocka_unit_test(test_password_roundtrip),
    cmocka_unit_test(test_password_malformed_hash),
    cmocka_unit_test(test_password_hashes_bounded),
    cmocka_unit_test(test_password_parameters_and_rehash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

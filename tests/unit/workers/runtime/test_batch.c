/* Unit: the pure parts of batching (workers/runtime/jobs_batch.c, batch_moves.c,
 * cli.c): the uuid[] literal of a claim, the arrays of a batch's outcomes, where each
 * status moves an id, and the --batch and --in-flight flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "jobs_batch.h"

#define ID_A "0b6b3a2e-3c4f-4d8e-9f00-000000000001"
#define ID_B "0b6b3a2e-3c4f-4d8e-9f00-000000000002"

static void test_uuid_array(void **state) {
  (void)state;
  const char *ids[] = {ID_A, "not-a-uuid", NULL, ID_B, "", ID_A "x"};
  char *s = h_job_uuid_array(ids, 6);
  assert_string_equal(s, "{" ID_A "," ID_B "}");
  free(s);
  s = h_job_uuid_array(ids, 0);
  assert_string_equal(s, "{}");
  free(s);
  const char *junk[] = {"{x}", "a,b"};
  s = h_job_uuid_array(junk, 2); /* nothing that could break out of the literal */
  assert_string_equal(s, "{}");
  free(s);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Element i of a one-dimensional binary array of oid: its bytes and *len, or NULL (*len -1)
 * for an SQL NULL. Fails the test when the array is not one of n elements of oid. */
static const unsigned char *element(struct h_pg_array *a, unsigned oid, int n, int i, int *len) {
  int size = 0, format = 0;
  const unsigned char *p = (const unsigned char *)h_pg_array_param(a, &size, &format);
  assert_non_null(p);
  assert_int_equal(format, 1);
  assert_int_equal(be32(p + 8), oid);
  assert_int_equal(be32(p + 12), n);
  const unsigned char *e = p + 20;
  for (int k = 0;; k++) {
    int32_t l = (int32_t)be32(e);
    if (k == i) {
      *len = l;
      return l < 0 ? NULL : e + 4;
    }
    e += 4 + (l < 0 ? 0 : l);
  }
}

/* Asserts that text element i of column c is s (NULL: an SQL NULL). */
static void text_is(struct h_pg_array *cols, int c, int i, const char *s) {
  int len = 0;
  const unsigned char *e = element(&cols[c], H_PG_OID_TEXT, 2, i, &len);
  if (s == NULL) {
    assert_null(e);
    return;
  }
  assert_int_equal(len, (int)strlen(s));
  assert_memory_equal(e, s, len);
}

static double float8_at(struct h_pg_array *cols, int c, int i) {
  int len = 0;
  const unsigned char *e = element(&cols[c], H_PG_OID_FLOAT8, 2, i, &len);
  assert_int_equal(len, 8);
  uint64_t bits = be64(e);
  double d;
  memcpy(&d, &bits, sizeof(d));
  return d;
}

/* Asserts that jsonb element i of column c is v (NULL: an SQL NULL). */
static void jsonb_is(struct h_pg_array *cols, int c, int i, const json_t *v) {
  int len = 0;
  const unsigned char *e = element(&cols[c], H_PG_OID_JSONB, 2, i, &len);
  if (v == NULL) {
    assert_null(e);
    return;
  }
  assert_int_equal(e[0], 1); /* jsonb's version byte, then the JSON text */
  json_t *got = json_loadb((const char *)e + 1, (size_t)len - 1, JSON_DECODE_ANY, NULL);
  assert_non_null(got);
  assert_true(json_equal(got, v));
  json_decref(got);
}

static void test_outcome_arrays(void **state) {
  (void)state;
  struct h_job a = {.id = ID_A, .fencing_token = 7};
  struct h_job b = {.id = ID_B, .fencing_token = 9000000000LL};
  struct h_job *jobs[] = {&a, &b};
  json_t *meta = json_pack("{si}", "http_status", 200);
  json_t *tokens = json_pack("[s]", "tok-1");
  json_t *calls = json_pack("[{sssi}]", "provider", "fcm", "status", 429);
  struct h_job_outcome outs[2] = {
    {.status = "sent", .event = "sent", .provider = "fcm", .provider_message_id = "m\"1",
     .duration_ms = 12, .meta = meta, .deactivate_tokens = tokens, .due_at = 5},
    {.status = "scheduled", .event = "retry", .provider = "fcm", .error = "429 \\ slow",
     .due_at = 1700000000.5, .deactivate_tokens = json_array(), .calls = calls},
  };
  double at[] = {1700000000.25, 1700000001.0};
  struct h_pg_array cols[H_OUTCOME_COLUMNS];
  assert_true(h_job_outcome_arrays(jobs, outs, at, 2, cols));
  int len = 0;
  const unsigned char *e = element(&cols[H_OUTCOME_ID], H_PG_OID_UUID, 2, 0, &len);
  assert_int_equal(len, 16);
  assert_int_equal(e[0], 0x0b); /* 0b6b3a2e-... */
  assert_int_equal(e[15], 0x01);
  e = element(&cols[H_OUTCOME_TOKEN], H_PG_OID_INT8, 2, 0, &len);
  assert_true(len == 8 && be64(e) == 7);
  e = element(&cols[H_OUTCOME_TOKEN], H_PG_OID_INT8, 2, 1, &len);
  assert_true(be64(e) == 9000000000ULL); /* past 32 bits */
  text_is(cols, H_OUTCOME_STATUS, 0, "sent");
  text_is(cols, H_OUTCOME_EVENT, 1, "retry");
  text_is(cols, H_OUTCOME_PROVIDER, 1, "fcm");
  text_is(cols, H_OUTCOME_MESSAGE_ID, 0, "m\"1"); /* as it is: nothing escaped */
  text_is(cols, H_OUTCOME_MESSAGE_ID, 1, NULL);
  text_is(cols, H_OUTCOME_ERROR, 0, NULL); /* NULL fields are SQL NULLs */
  text_is(cols, H_OUTCOME_ERROR, 1, "429 \\ slow");
  text_is(cols, H_OUTCOME_REASON, 0, NULL);
  /* only a scheduled outcome has a due time */
  assert_null(element(&cols[H_OUTCOME_DUE], H_PG_OID_FLOAT8, 2, 0, &len));
  assert_true(float8_at(cols, H_OUTCOME_DUE, 1) == 1700000000.5);
  e = element(&cols[H_OUTCOME_DURATION], H_PG_OID_INT4, 2, 0, &len);
  assert_true(len == 4 && be32(e) == 12);
  assert_true(float8_at(cols, H_OUTCOME_AT, 0) == 1700000000.25);
  assert_true(float8_at(cols, H_OUTCOME_AT, 1) == 1700000001.0);
  jsonb_is(cols, H_OUTCOME_META, 0, meta);
  jsonb_is(cols, H_OUTCOME_META, 1, NULL);
  jsonb_is(cols, H_OUTCOME_TOKENS, 0, tokens);
  jsonb_is(cols, H_OUTCOME_TOKENS, 1, NULL); /* an empty list deactivates nothing */
  jsonb_is(cols, H_OUTCOME_CALLS, 0, NULL);
  jsonb_is(cols, H_OUTCOME_CALLS, 1, calls);
  h_job_outcome_arrays_free(cols);
  /* a job id that is not a uuid: no statement can be sent */
  struct h_job bad = {.id = "not-a-uuid", .fencing_token = 1};
  struct h_job *one[] = {&bad};
  assert_false(h_job_outcome_arrays(one, outs, at, 1, cols));
  h_job_outcome_arrays_free(cols);
  json_decref(meta);
  json_decref(tokens);
  json_decref(calls);
  json_decref((json_t *)outs[1].deactivate_tokens);
}

static void test_move_kind(void **state) {
  (void)state;
  assert_int_equal(h_rt_move_kind("scheduled"), 'd');
  assert_int_equal(h_rt_move_kind("dead"), 'x');
  assert_int_equal(h_rt_move_kind("ready"), 'r');
  const char *acked[] = {"sent", "failed", "skipped", "done", ""};
  for (size_t i = 0; i < sizeof(acked) / sizeof(acked[0]); i++) {
    assert_int_equal(h_rt_move_kind(acked[i]), 'a');
  }
}

/* Parses a space-separated command line. */
static int parse(const char *line, struct h_worker_opts *o) {
  static char buf[512];
  char *argv[32];
  int argc = 0;
  snprintf(buf, sizeof(buf), "herald-push %s", line);
  for (char *tok = strtok(buf, " "); tok != NULL && argc < 31; tok = strtok(NULL, " ")) {
    argv[argc++] = tok;
  }
  argv[argc] = NULL;
  char err[256];
  return h_cli_parse(argc, argv, o, err, sizeof(err));
}

/* Each command line gives *field the value want (0: the variable decides); each of bad
 * (NULL-terminated) exits 2. */
struct flag_case {
  const char *line;
  int want;
};

static void check_flag(const struct flag_case *good, size_t ngood, size_t offset,
                       const char *const *bad) {
  struct h_worker_opts o;
  for (size_t i = 0; i < ngood; i++) {
    assert_int_equal(parse(good[i].line, &o), 0);
    int got;
    memcpy(&got, (const char *)&o + offset, sizeof(got));
    if (got != good[i].want) {
      fail_msg("'%s' gave %d, not %d", good[i].line, got, good[i].want);
    }
  }
  for (int i = 0; bad[i] != NULL; i++) {
    if (parse(bad[i], &o) != 2) {
      fail_msg("'%s' was accepted", bad[i]);
    }
  }
}

static void test_batch_flag(void **state) {
  (void)state;
  const struct flag_case good[] = {
    {"", 0}, {"--batch 32 -c 2", 32}, {"-b 1", 1}, {"--batch=500", H_BATCH_MAX}};
  const char *bad[] = {"--batch 0", "--batch 501", "--batch -1", "--batch x", "--batch 8x",
                       "--batch", "-b", "--batch= ", "--batch 99999999999999999999", NULL};
  check_flag(good, 4, offsetof(struct h_worker_opts, batch), bad);
}

static void test_in_flight_flag(void **state) {
  (void)state;
  const struct flag_case good[] = {
    {"", 0}, {"--in-flight 16 -c 2", 16}, {"--in-flight=1", 1},
    {"--in-flight 100", H_IN_FLIGHT_MAX}};
  const char *bad[] = {"--in-flight 0", "--in-flight 101", "--in-flight -1", "--in-flight x",
                       "--in-flight 8x", "--in-flight", "--in-flight= ", "--in-flight 1.5",
                       "--in-flight 99999999999999999999", NULL};
  check_flag(good, 4, offsetof(struct h_worker_opts, in_flight), bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_uuid_array), cmocka_unit_test(test_outcome_arrays),
    cmocka_unit_test(test_move_kind), cmocka_unit_test(test_batch_flag),
    cmocka_unit_test(test_in_flight_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit: the pure parts of batching (workers/runtime/jobs_batch.c, batch_moves.c,
 * cli.c): the uuid[] literal of a claim, the JSON of a batch's outcomes, where each
 * status moves an id, and the --batch and --in-flight flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

static void test_outcomes_json(void **state) {
  (void)state;
  struct h_job a = {.id = ID_A, .fencing_token = 7};
  struct h_job b = {.id = ID_B, .fencing_token = 9000000000LL};
  struct h_job *jobs[] = {&a, &b};
  json_t *meta = json_pack("{si}", "http_status", 200);
  json_t *tokens = json_pack("[s]", "tok-1");
  struct h_job_outcome outs[2] = {
    {.status = "sent", .event = "sent", .provider = "fcm", .provider_message_id = "m\"1",
     .duration_ms = 12, .meta = meta, .deactivate_tokens = tokens, .due_at = 5},
    {.status = "scheduled", .event = "retry", .provider = "fcm", .error = "429 \\ slow",
     .due_at = 1700000000.5, .deactivate_tokens = json_array()},
  };
  double at[] = {1700000000.25, 1700000001.0};
  json_t *doc = h_job_outcomes_json(jobs, outs, at, 2);
  assert_int_equal(json_array_size(doc), 2);
  json_t *x = json_array_get(doc, 0), *y = json_array_get(doc, 1);
  assert_string_equal(json_string_value(json_object_get(x, "id")), ID_A);
  assert_int_equal(json_integer_value(json_object_get(x, "token")), 7);
  assert_string_equal(json_string_value(json_object_get(x, "message_id")), "m\"1");
  assert_int_equal(json_integer_value(json_object_get(x, "duration")), 12);
  assert_true(json_equal(json_object_get(x, "meta"), meta));
  assert_true(json_equal(json_object_get(x, "tokens"), tokens));
  assert_true(json_real_value(json_object_get(x, "at")) == 1700000000.25);
  assert_null(json_object_get(x, "due"));     /* only a scheduled outcome has one */
  assert_null(json_object_get(x, "error"));   /* NULL fields are left out */
  assert_null(json_object_get(x, "reason"));
  assert_int_equal(json_integer_value(json_object_get(y, "token")), 9000000000LL);
  assert_string_equal(json_string_value(json_object_get(y, "event")), "retry");
  assert_string_equal(json_string_value(json_object_get(y, "error")), "429 \\ slow");
  assert_true(json_real_value(json_object_get(y, "due")) == 1700000000.5);
  assert_null(json_object_get(y, "tokens"));  /* an empty list deactivates nothing */
  assert_null(json_object_get(y, "meta"));
  json_decref(doc);
  json_decref(meta);
  json_decref(tokens);
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
    cmocka_unit_test(test_uuid_array), cmocka_unit_test(test_outcomes_json),
    cmocka_unit_test(test_move_kind), cmocka_unit_test(test_batch_flag),
    cmocka_unit_test(test_in_flight_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

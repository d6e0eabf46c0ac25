/* Unit tests: webhook bodies per endpoint format (workers/webhook/payload.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "payload.h"

static void job_of(struct h_job *job, const char *title, const char *body, const char *url) {
  memset(job, 0, sizeof(*job));
  strcpy(job->id, "11111111-1111-4111-8111-111111111111");
  strcpy(job->notification_id, "22222222-2222-4222-8222-222222222222");
  strcpy(job->user_id, "33333333-3333-4333-8333-333333333333");
  job->category = h_strdup("comments");
  job->priority = h_strdup("critical");
  job->title = title ? h_strdup(title) : NULL;
  job->body = body ? h_strdup(body) : NULL;
  job->action_url = url ? h_strdup(url) : NULL;
  job->data = json_pack("{si}", "n", 5);
}

static void test_generic(void **state) {
  (void)state;
  struct h_job job;
  job_of(&job, "Hi", "Body", NULL);
  json_t *doc = h_webhook_payload(&job, "json", "2026-01-01T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(doc, "type")), "notification.created");
  json_t *data = json_object_get(doc, "data");
  assert_string_equal(json_string_value(json_object_get(data, "id")), job.notification_id);
  assert_string_equal(json_string_value(json_object_get(data, "delivery_id")), job.id);
  assert_string_equal(json_string_value(json_object_get(data, "title")), "Hi");
  assert_true(json_is_null(json_object_get(data, "action_url")));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(data, "data"), "n")), 5);
  json_decref(doc);
  h_job_free(&job);
}

static void test_slack(void **state) {
  (void)state;
  struct h_job job;
  job_of(&job, "New <comment>", "a & b <!channel>", "https://app.example/c/1");
  json_t *doc = h_webhook_payload(&job, "slack", "2026-01-01T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(doc, "text")), "New <comment>");
  json_t *blocks = json_object_get(doc, "blocks");
  assert_int_equal(json_array_size(blocks), 4);
  json_t *header = json_array_get(blocks, 0);
  assert_string_equal(json_string_value(json_object_get(header, "type")), "header");
  json_t *section = json_object_get(json_array_get(blocks, 1), "text");
  /* mrkdwn: no mention or link can be smuggled in */
  assert_string_equal(json_string_value(json_object_get(section, "text")),
                      "a &amp; b &lt;!channel&gt;");
  json_t *button = json_array_get(json_object_get(json_array_get(blocks, 2), "elements"), 0);
  assert_string_equal(json_string_value(json_object_get(button, "url")), "https://app.example/c/1");
  json_decref(doc);
  h_job_free(&job);
}

static void test_slack_long_title_cut(void **state) {
  (void)state;
  char title[400];
  memset(title, 'x', sizeof(title) - 3);
  strcpy(title + sizeof(title) - 3, "\xC3\xA9"); /* é on the edge */
  title[148] = '\xC3';
  title[149] = '\xA9';
  struct h_job job;
  job_of(&job, title, NULL, NULL);
  json_t *doc = h_webhook_payload(&job, "slack", "2026-01-01T00:00:00Z");
  json_t *blocks = json_object_get(doc, "blocks");
  const char *h = json_string_value(
      json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text"));
  assert_non_null(h); /* valid UTF-8, or jansson would have refused it */
  assert_true(strlen(h) <= 150);
  assert_int_equal(json_array_size(blocks), 2); /* header and context: no body, no link */
  json_decref(doc);
  h_job_free(&job);
}

static void test_discord(void **state) {
  (void)state;
  struct h_job job;
  job_of(&job, "Down", "@everyone the API is down", "https://status.example/");
  json_t *doc = h_webhook_payload(&job, "discord", "2026-01-01T00:00:00Z");
  json_t *embed = json_array_get(json_object_get(doc, "embeds"), 0);
  assert_string_equal(json_string_value(json_object_get(embed, "title")), "Down");
  assert_int_equal(json_integer_value(json_object_get(embed, "color")), 0xD32F2F);
  assert_string_equal(json_string_value(json_object_get(embed, "url")), "https://status.example/");
  json_t *parse = json_object_get(json_object_get(doc, "allowed_mentions"), "parse");
  assert_true(json_is_array(parse));
  assert_int_equal(json_array_size(parse), 0); /* @everyone does not ping */
  json_decref(doc);
  h_job_free(&job);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_generic), cmocka_unit_test(test_slack),
    cmocka_unit_test(test_slack_long_title_cut), cmocka_unit_test(test_discord),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

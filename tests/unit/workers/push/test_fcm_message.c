/* Unit: the FCM HTTP v1 message of a push job (workers/push/fcm_message.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fcm_message.h"

/* A job with push options (JSON text, or NULL), unread 4 (caller h_job_free()s it). */
static void job_of(struct h_job *job, const char *push, const char *priority) {
  memset(job, 0, sizeof(*job));
  strcpy(job->id, "11111111-1111-4111-8111-111111111111");
  strcpy(job->notification_id, "22222222-2222-4222-8222-222222222222");
  job->title = strdup("Order");
  job->body = strdup("Shipped");
  job->priority = strdup(priority);
  job->category = strdup("orders");
  job->data = json_pack("{sssi}", "order", "A-1", "n", 7);
  job->push = push != NULL ? json_loads(push, 0, NULL) : NULL;
  job->unread = 4;
}

static const char *str(const json_t *m, const char *a, const char *b, const char *c) {
  const json_t *v = json_object_get(json_object_get(json_object_get(m, a), b), c);
  return json_string_value(v);
}

static void test_defaults(void **state) {
  (void)state;
  struct h_job job;
  job_of(&job, NULL, "critical");
  json_t *doc = h_fcm_message(&job, "tok", 1000);
  json_t *m = json_object_get(doc, "message");
  assert_string_equal(json_string_value(json_object_get(m, "token")), "tok");
  json_t *data = json_object_get(m, "data");
  assert_string_equal(json_string_value(json_object_get(data, "n")), "7");
  assert_string_equal(json_string_value(json_object_get(data, "order")), "A-1");
  assert_string_equal(json_string_value(json_object_get(data, "category")), "orders");
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "notification"),
                                                        "title")), "Order");
  assert_string_equal(json_string_value(json_object_get(json_object_get(m, "android"),
                                                         "priority")), "HIGH");
  assert_string_equal(str(m, "apns", "headers", "apns-priority"), "10");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
                       json_object_get(m, "apns"), "payload"), "aps"), "badge")), 4);
  assert_null(str(m, "apns", "headers", "apns-expiration"));
  json_decref(doc);
  h_job_free(&job);
}

static void test_options_and_overrides(void **state) {
  (void)state;
  struct h_job job;
  job_of(&job, "{\"silent\":true,\"ttl\":60,\"collapse_key\":\"k\",\"priority\":\"normal\","
               "\"android\":{\"priority\":\"HIGH\",\"notification\":{\"tag\":\"t\"}},"
               "\"apns\":{\"headers\":{\"apns-topic\":\"app\"}}}", "high");
  json_t *doc = h_fcm_message(&job, "tok", 1000);
  json_t *m = json_object_get(doc, "message");
  assert_null(json_object_get(m, "notification"));
  json_t *android = json_object_get(m, "android");
  assert_string_equal(json_string_value(json_object_get(android, "priority")), "HIGH");
  assert_string_equal(json_string_value(json_object_get(android, "ttl")), "60s");
  assert_string_equal(json_string_value(json_object_get(android, "collapse_key")), "k");
  assert_string_equal(str(m, "android", "notification", "tag"), "t");
  assert_null(json_object_get(json_object_get(android, "notification"), "notification_count"));
  assert_string_equal(str(m, "apns", "headers", "apns-expiration"), "1060");
  assert_string_equal(str(m, "apns", "headers", "apns-collapse-id"), "k");
  assert_string_equal(str(m, "apns", "headers", "apns-push-type"), "background");
  assert_string_equal(str(m, "apns", "headers", "apns-priority"), "5");
  assert_string_equal(str(m, "apns", "headers", "apns-topic"), "app");
  json_decref(doc);
  h_job_free(&job);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_options_and_overrides),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

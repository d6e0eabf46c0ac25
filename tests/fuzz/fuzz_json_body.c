/* fuzz_json_body.c - a JSON request body as the middleware takes it (the nesting check, then
 * jansson with the same flags), and the field readers of core/fields.c over the parsed value,
 * the way handlers read their fields. */
#include <jansson.h>
#include <stdbool.h>

#include "core/errors.h"
#include "core/fields.h"
#include "fuzz_input.h"
#include "http/http.h"

static void read_fields(const json_t *body) {
  static const char *const allowed[] = {"email", "password", "name", "phone", "timezone",
                                        "locale", "enabled", NULL};
  static const char *const strings[] = {"email", "password", "name", "phone", "timezone",
                                        "locale", "missing"};
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
    const char *s = h_field_string(body, strings[i], i % 2 == 0, 255, &fe);
    if (s != NULL) {
      (void)h_valid_email(s);
      (void)h_valid_phone(s);
      (void)h_valid_locale(s);
      (void)h_valid_timestamp(s);
    }
  }
  bool b = false;
  (void)h_field_bool(body, "enabled", true, &b, &fe);
  (void)h_field_bool(body, "email", false, &b, &fe);
  (void)h_field_errors_count(&fe);
  json_decref(h_field_errors_body(&fe));
  h_field_errors_clear(&fe);
}

/* Nesting depth of v (a scalar is 0). */
static int depth_of(const json_t *v) {
  int max = 0;
  if (json_is_object(v)) {
    const char *key;
    json_t *member;
    json_object_foreach((json_t *)v, key, member) {
      int d = depth_of(member);
      max = d > max ? d : max;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *member;
    json_array_foreach(v, i, member) {
      int d = depth_of(member);
      max = d > max ? d : max;
    }
  } else {
    return 0;
  }
  return max + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  if (!h_json_depth_ok(text, size, 32)) {
    return 0;
  }
  json_error_t err;
  json_t *body = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (body == NULL) {
    return 0;
  }
  if (depth_of(body) > 32) {
    abort(); /* the nesting check let a deeper document through */
  }
  if (json_is_object(body)) {
    read_fields(body);
  }
  json_decref(body);
  return 0;
}

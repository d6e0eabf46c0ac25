/* stripe_calls.c - calls and object readers shared by the Stripe implementations of
 * the dispute and billing interfaces. */
#include "payments/stripe/stripe_calls.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"

h_result h_stripe_provider_call(const struct h_provider *p, const char *method,
                                const char *path, const struct h_stripe_form *form,
                                const char *key, struct h_stripe_response *out) {
  const struct h_config *cfg = p->state;
  struct h_stripe_config c = {
    .api_base = cfg->stripe_api_base, .secret_key = cfg->stripe_secret_key,
    .api_version = cfg->stripe_api_version, .connect_timeout_ms = cfg->stripe_connect_timeout_ms,
    .timeout_ms = cfg->stripe_timeout_ms, .max_retries = cfg->stripe_max_retries,
    .request_id = p->request_id,
  };
  return h_stripe_call(&c, method, path, form, key, out);
}

void h_stripe_copy_str(const json_t *obj, const char *name, char *out, size_t outlen) {
  const char *v = json_string_value(json_object_get(obj, name));
  snprintf(out, outlen, "%s", v != NULL ? v : "");
}

void h_stripe_copy_ref(const json_t *obj, const char *name, char *out, size_t outlen) {
  const json_t *v = json_object_get(obj, name);
  if (json_is_object(v)) {
    v = json_object_get(v, "id");
  }
  snprintf(out, outlen, "%s", json_is_string(v) ? json_string_value(v) : "");
}

void h_stripe_copy_currency(const json_t *obj, const char *name, char out[4]) {
  const char *v = json_string_value(json_object_get(obj, name));
  snprintf(out, 4, "%s", v != NULL && strlen(v) == 3 ? v : "");
  for (char *c = out; *c != '\0'; c++) {
    *c = (char)toupper((unsigned char)*c);
  }
}

bool h_stripe_is_object(const json_t *obj, const char *type) {
  const char *o = json_string_value(json_object_get(obj, "object"));
  return o != NULL && strcmp(o, type) == 0 && json_is_string(json_object_get(obj, "id"));
}

void h_stripe_give_error(const struct h_stripe_response *resp, struct h_provider_error *err) {
  if (err != NULL) {
    const struct h_stripe_error *e = &resp->error;
    snprintf(err->type, sizeof(err->type), "%s", e->type);
    snprintf(err->code, sizeof(err->code), "%s", e->code);
    snprintf(err->decline_code, sizeof(err->decline_code), "%s", e->decline_code);
    snprintf(err->param, sizeof(err->param), "%s", e->param);
    snprintf(err->message, sizeof(err->message), "%s", e->message);
  }
}

char *h_stripe_object_path(const char *collection, const char *id, const char *suffix) {
  char *escaped = h_stripe_escape(id);
  char *path = h_sprintf("/v1/%s/%s%s", collection, escaped, suffix);
  free(escaped);
  return path;
}

/* payment_provider.c - PaymentIntents, refunds, customers and payment methods at Stripe. */
#include "payments/payment_provider.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Copies a string member of obj (or "") into out. */
static void copy_str(const json_t *obj, const char *name, char *out, size_t outlen) {
  const char *v = json_string_value(json_object_get(obj, name));
  snprintf(out, outlen, "%s", v != NULL ? v : "");
}

/* The id of a member that is either an id string or an expanded object. */
static void copy_ref(const json_t *obj, const char *name, char *out, size_t outlen) {
  const json_t *v = json_object_get(obj, name);
  if (json_is_object(v)) {
    v = json_object_get(v, "id");
  }
  snprintf(out, outlen, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static bool is_object_of(const json_t *obj, const char *type) {
  const char *o = json_string_value(json_object_get(obj, "object"));
  return o != NULL && strcmp(o, type) == 0 && json_is_string(json_object_get(obj, "id"));
}

void h_pi_clear(struct h_pi *pi) {
  json_decref(pi->last_payment_error);
  memset(pi, 0, sizeof(*pi));
}

h_result h_pi_from_json(const json_t *obj, struct h_pi *out) {
  h_pi_clear(out);
  if (!is_object_of(obj, "payment_intent")) {
    return H_ERR_INVALID;
  }
  copy_str(obj, "id", out->id, sizeof(out->id));
  copy_str(obj, "status", out->status, sizeof(out->status));
  copy_str(obj, "client_secret", out->client_secret, sizeof(out->client_secret));
  copy_ref(obj, "customer", out->customer, sizeof(out->customer));
  copy_ref(obj, "payment_method", out->payment_method, sizeof(out->payment_method));
  copy_str(obj, "cancellation_reason", out->cancellation_reason,
           sizeof(out->cancellation_reason));
  copy_str(json_object_get(obj, "metadata"), "herald_payment_id", out->herald_payment_id,
           sizeof(out->herald_payment_id));
  out->amount = (long long)json_integer_value(json_object_get(obj, "amount"));
  const json_t *e = json_object_get(obj, "last_payment_error");
  if (json_is_object(e)) {
    out->last_payment_error =
        json_pack("{s:s?, s:s?, s:s?}", "code", json_string_value(json_object_get(e, "code")),
                  "decline_code", json_string_value(json_object_get(e, "decline_code")),
                  "message", json_string_value(json_object_get(e, "message")));
  }
  return H_OK;
}

h_result h_refund_from_json(const json_t *obj, struct h_refund_obj *out) {
  memset(out, 0, sizeof(*out));
  if (!is_object_of(obj, "refund")) {
    return H_ERR_INVALID;
  }
  copy_str(obj, "id", out->id, sizeof(out->id));
  copy_str(obj, "status", out->status, sizeof(out->status));
  copy_ref(obj, "payment_intent", out->payment_intent, sizeof(out->payment_intent));
  copy_str(obj, "reason", out->reason, sizeof(out->reason));
  copy_str(obj, "failure_reason", out->failure_reason, sizeof(out->failure_reason));
  copy_str(json_object_get(obj, "metadata"), "herald_refund_id", out->herald_refund_id,
           sizeof(out->herald_refund_id));
  copy_str(obj, "currency", out->currency, sizeof(out->currency));
  for (char *c = out->currency; *c != '\0'; c++) {
    *c = (char)toupper((unsigned char)*c);
  }
  out->amount = (long long)json_integer_value(json_object_get(obj, "amount"));
  return H_OK;
}

h_result h_pm_from_json(const json_t *obj, struct h_pm_obj *out) {
  memset(out, 0, sizeof(*out));
  if (!is_object_of(obj, "payment_method")) {
    return H_ERR_INVALID;
  }
  const json_t *card = json_object_get(obj, "card");
  copy_str(obj, "id", out->id, sizeof(out->id));
  copy_str(obj, "type", out->type, sizeof(out->type));
  copy_ref(obj, "customer", out->customer, sizeof(out->customer));
  copy_str(card, "brand", out->brand, sizeof(out->brand));
  copy_str(card, "last4", out->last4, sizeof(out->last4));
  out->exp_month = (int)json_integer_value(json_object_get(card, "exp_month"));
  out->exp_year = (int)json_integer_value(json_object_get(card, "exp_year"));
  return H_OK;
}

bool h_provider_init(struct h_provider *p, const struct h_config *cfg, const char *request_id) {
  memset(p, 0, sizeof(*p));
  p->cfg.api_base = cfg->stripe_api_base;
  p->cfg.secret_key = cfg->stripe_secret_key;
  p->cfg.api_version = cfg->stripe_api_version;
  p->cfg.connect_timeout_ms = cfg->stripe_connect_timeout_ms;
  p->cfg.timeout_ms = cfg->stripe_timeout_ms;
  p->cfg.max_retries = cfg->stripe_max_retries;
  p->cfg.request_id = request_id;
  return cfg->stripe_secret_key != NULL && cfg->stripe_secret_key[0] != '\0' &&
         cfg->stripe_api_base != NULL && cfg->stripe_api_base[0] != '\0';
}

/* Copies Stripe's error out when the caller wants it. */
static void give_error(const struct h_stripe_response *resp, struct h_stripe_error *err) {
  if (err != NULL) {
    *err = resp->error;
  }
}

/* Runs a call whose answer (or declined intent) is a PaymentIntent. */
static h_result pi_call(const struct h_provider *p, const char *method, const char *path,
                        const struct h_stripe_form *form, const char *key, struct h_pi *pi,
                        struct h_stripe_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_call(&p->cfg, method, path, form, key, &resp);
  h_pi_clear(pi);
  if (r == H_OK) {
    r = h_pi_from_json(resp.body, pi) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    give_error(&resp, err);
    const json_t *declined = json_object_get(json_object_get(resp.body, "error"), "payment_intent");
    if (declined != NULL) {
      h_pi_from_json(declined, pi);
    }
  }
  h_stripe_response_free(&resp);
  return r;
}

/* "/v1/<collection>/<escaped id><suffix>" in a new string the caller frees. */
static char *object_path(const char *collection, const char *id, const char *suffix) {
  char *escaped = h_stripe_escape(id);
  char *path = h_sprintf("/v1/%s/%s%s", collection, escaped, suffix);
  free(escaped);
  return path;
}

h_result h_provider_pi_create(const struct h_provider *p, const struct h_pi_params *in,
                              const char *idempotency_key, struct h_pi *pi,
                              struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  char currency[4];
  for (int i = 0; i < 4; i++) {
    currency[i] = (char)tolower((unsigned char)in->currency[i]);
  }
  h_stripe_form_add_ll(&f, "amount", in->amount);
  h_stripe_form_add(&f, "currency", currency);
  if (in->customer != NULL) {
    h_stripe_form_add(&f, "customer", in->customer);
  }
  if (in->payment_method != NULL) {
    h_stripe_form_add(&f, "payment_method", in->payment_method);
  }
  if (in->description != NULL) {
    h_stripe_form_add(&f, "description", in->description);
  }
  if (in->confirm) {
    h_stripe_form_add(&f, "confirm", "true");
  }
  if (in->metadata != NULL) {
    h_stripe_form_add_json(&f, "metadata", in->metadata);
  }
  h_stripe_form_add(&f, "metadata[herald_payment_id]", in->payment_id);
  h_stripe_form_add(&f, "metadata[herald_user_id]", in->user_id);
  h_stripe_form_add(&f, "metadata[herald_payment_type]", in->payment_type);
  h_result r = pi_call(p, "POST", "/v1/payment_intents", &f, idempotency_key, pi, err);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_pi_confirm(const struct h_provider *p, const char *pi_id,
                               const char *payment_method, const char *idempotency_key,
                               struct h_pi *pi, struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  if (payment_method != NULL) {
    h_stripe_form_add(&f, "payment_method", payment_method);
  }
  char *path = object_path("payment_intents", pi_id, "/confirm");
  h_result r = pi_call(p, "POST", path, &f, idempotency_key, pi, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_pi_cancel(const struct h_provider *p, const char *pi_id, const char *reason,
                              const char *idempotency_key, struct h_pi *pi,
                              struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  if (reason != NULL) {
    h_stripe_form_add(&f, "cancellation_reason", reason);
  }
  char *path = object_path("payment_intents", pi_id, "/cancel");
  h_result r = pi_call(p, "POST", path, &f, idempotency_key, pi, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_pi_fetch(const struct h_provider *p, const char *pi_id, struct h_pi *pi,
                             struct h_stripe_error *err) {
  char *path = object_path("payment_intents", pi_id, "");
  h_result r = pi_call(p, "GET", path, NULL, NULL, pi, err);
  free(path);
  return r;
}

/* Runs a call whose answer is a refund. */
static h_result refund_call(const struct h_provider *p, const char *method, const char *path,
                            const struct h_stripe_form *form, const char *key,
                            struct h_refund_obj *out, struct h_stripe_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_call(&p->cfg, method, path, form, key, &resp);
  memset(out, 0, sizeof(*out));
  if (r == H_OK) {
    r = h_refund_from_json(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

h_result h_provider_refund_create(const struct h_provider *p, const char *pi_id,
                                  long long amount, const char *reason, const char *refund_id,
                                  const char *idempotency_key, struct h_refund_obj *out,
                                  struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "payment_intent", pi_id);
  h_stripe_form_add_ll(&f, "amount", amount);
  if (reason != NULL) {
    h_stripe_form_add(&f, "reason", reason);
  }
  h_stripe_form_add(&f, "metadata[herald_refund_id]", refund_id);
  h_result r = refund_call(p, "POST", "/v1/refunds", &f, idempotency_key, out, err);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_refund_fetch(const struct h_provider *p, const char *refund_id,
                                 struct h_refund_obj *out, struct h_stripe_error *err) {
  char *path = object_path("refunds", refund_id, "");
  h_result r = refund_call(p, "GET", path, NULL, NULL, out, err);
  free(path);
  return r;
}

h_result h_provider_customer_create(const struct h_provider *p, const char *user_id,
                                    const char *email, const char *idempotency_key,
                                    char id[H_PROVIDER_ID_LEN], struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  if (email != NULL) {
    h_stripe_form_add(&f, "email", email);
  }
  h_stripe_form_add(&f, "metadata[herald_user_id]", user_id);
  struct h_stripe_response resp;
  h_result r = h_stripe_call(&p->cfg, "POST", "/v1/customers", &f, idempotency_key, &resp);
  id[0] = '\0';
  if (r == H_OK) {
    copy_str(resp.body, "id", id, H_PROVIDER_ID_LEN);
    r = id[0] != '\0' ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  h_stripe_form_free(&f);
  return r;
}

/* Runs a call whose answer Herald only checks for success. */
static h_result plain_call(const struct h_provider *p, const char *path, struct h_stripe_form *f,
                           const char *key, struct h_stripe_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_call(&p->cfg, "POST", path, f, key, &resp);
  if (r != H_OK) {
    give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

h_result h_provider_customer_default(const struct h_provider *p, const char *customer,
                                     const char *payment_method, const char *idempotency_key,
                                     struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "invoice_settings[default_payment_method]",
             payment_method != NULL ? payment_method : "");
  char *path = object_path("customers", customer, "");
  h_result r = plain_call(p, path, &f, idempotency_key, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_pm_attach(const struct h_provider *p, const char *payment_method,
                              const char *customer, const char *idempotency_key,
                              struct h_pm_obj *out, struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "customer", customer);
  char *path = object_path("payment_methods", payment_method, "/attach");
  struct h_stripe_response resp;
  h_result r = h_stripe_call(&p->cfg, "POST", path, &f, idempotency_key, &resp);
  memset(out, 0, sizeof(*out));
  if (r == H_OK) {
    r = h_pm_from_json(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

h_result h_provider_pm_detach(const struct h_provider *p, const char *payment_method,
                              const char *idempotency_key, struct h_stripe_error *err) {
  struct h_stripe_form f = {0};
  char *path = object_path("payment_methods", payment_method, "/detach");
  h_result r = plain_call(p, path, &f, idempotency_key, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

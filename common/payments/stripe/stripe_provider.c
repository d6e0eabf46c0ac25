/* stripe_provider.c - the payment provider interface over Stripe: PaymentIntents,
 * refunds, customers, payment methods and their lists, as form calls through stripe.h. */
#include "payments/stripe/stripe_provider.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "payments/stripe/stripe.h"
#include "payments/stripe/stripe_calls.h"

static h_result payment_read(const json_t *obj, struct h_provider_payment *out) {
  h_provider_payment_clear(out);
  if (!h_stripe_is_object(obj, "payment_intent")) {
    return H_ERR_INVALID;
  }
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_str(obj, "status", out->status, sizeof(out->status));
  h_stripe_copy_str(obj, "client_secret", out->client_secret, sizeof(out->client_secret));
  h_stripe_copy_ref(obj, "customer", out->customer, sizeof(out->customer));
  h_stripe_copy_ref(obj, "payment_method", out->payment_method, sizeof(out->payment_method));
  h_stripe_copy_str(obj, "cancellation_reason", out->cancellation_reason, sizeof(out->cancellation_reason));
  h_stripe_copy_str(json_object_get(obj, "metadata"), "herald_payment_id", out->herald_payment_id,
           sizeof(out->herald_payment_id));
  out->amount = (long long)json_integer_value(json_object_get(obj, "amount"));
  const json_t *e = json_object_get(obj, "last_payment_error");
  if (json_is_object(e)) {
    out->last_payment_error =
        json_pack("{s:s?, s:s?, s:s?}", "code", json_string_value(json_object_get(e, "code")),
                  "decline_code", json_string_value(json_object_get(e, "decline_code")), "message",
                  json_string_value(json_object_get(e, "message")));
  }
  return H_OK;
}

static h_result refund_read(const json_t *obj, struct h_provider_refund *out) {
  memset(out, 0, sizeof(*out));
  if (!h_stripe_is_object(obj, "refund")) {
    return H_ERR_INVALID;
  }
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_str(obj, "status", out->status, sizeof(out->status));
  h_stripe_copy_ref(obj, "payment_intent", out->payment, sizeof(out->payment));
  h_stripe_copy_str(obj, "reason", out->reason, sizeof(out->reason));
  h_stripe_copy_str(obj, "failure_reason", out->failure_reason, sizeof(out->failure_reason));
  h_stripe_copy_str(json_object_get(obj, "metadata"), "herald_refund_id", out->herald_refund_id,
           sizeof(out->herald_refund_id));
  h_stripe_copy_str(obj, "currency", out->currency, sizeof(out->currency));
  for (char *c = out->currency; *c != '\0'; c++) {
    *c = (char)toupper((unsigned char)*c);
  }
  out->amount = (long long)json_integer_value(json_object_get(obj, "amount"));
  return H_OK;
}

static h_result method_read(const json_t *obj, struct h_provider_method *out) {
  memset(out, 0, sizeof(*out));
  if (!h_stripe_is_object(obj, "payment_method")) {
    return H_ERR_INVALID;
  }
  const json_t *card = json_object_get(obj, "card");
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_str(obj, "type", out->type, sizeof(out->type));
  h_stripe_copy_ref(obj, "customer", out->customer, sizeof(out->customer));
  h_stripe_copy_str(card, "brand", out->brand, sizeof(out->brand));
  h_stripe_copy_str(card, "last4", out->last4, sizeof(out->last4));
  out->exp_month = (int)json_integer_value(json_object_get(card, "exp_month"));
  out->exp_year = (int)json_integer_value(json_object_get(card, "exp_year"));
  return H_OK;
}

/* The client configuration of p's calls. */
/* Runs a call whose answer (or declined intent) is a PaymentIntent. */
static h_result pi_call(const struct h_provider *p, const char *method, const char *path,
                        const struct h_stripe_form *form, const char *key,
                        struct h_provider_payment *pi, struct h_provider_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, method, path, form, key, &resp);
  h_provider_payment_clear(pi);
  if (r == H_OK) {
    r = payment_read(resp.body, pi) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
    const json_t *declined = json_object_get(json_object_get(resp.body, "error"), "payment_intent");
    if (declined != NULL) {
      payment_read(declined, pi);
    }
  }
  h_stripe_response_free(&resp);
  return r;
}

static h_result payment_create(const struct h_provider *p,
                               const struct h_provider_payment_params *in,
                               const char *idempotency_key, struct h_provider_payment *pi,
                               struct h_provider_error *err) {
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

static h_result payment_confirm(const struct h_provider *p, const char *pi_id,
                                const char *payment_method, const char *idempotency_key,
                                struct h_provider_payment *pi, struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  if (payment_method != NULL) {
    h_stripe_form_add(&f, "payment_method", payment_method);
  }
  char *path = h_stripe_object_path("payment_intents", pi_id, "/confirm");
  h_result r = pi_call(p, "POST", path, &f, idempotency_key, pi, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result payment_cancel(const struct h_provider *p, const char *pi_id, const char *reason,
                               const char *idempotency_key, struct h_provider_payment *pi,
                               struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  if (reason != NULL) {
    h_stripe_form_add(&f, "cancellation_reason", reason);
  }
  char *path = h_stripe_object_path("payment_intents", pi_id, "/cancel");
  h_result r = pi_call(p, "POST", path, &f, idempotency_key, pi, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result payment_fetch(const struct h_provider *p, const char *pi_id,
                              struct h_provider_payment *pi, struct h_provider_error *err) {
  char *path = h_stripe_object_path("payment_intents", pi_id, "");
  h_result r = pi_call(p, "GET", path, NULL, NULL, pi, err);
  free(path);
  return r;
}

/* Runs a call whose answer is a refund. */
static h_result refund_call(const struct h_provider *p, const char *method, const char *path,
                            const struct h_stripe_form *form, const char *key,
                            struct h_provider_refund *out, struct h_provider_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, method, path, form, key, &resp);
  memset(out, 0, sizeof(*out));
  if (r == H_OK) {
    r = refund_read(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

static h_result refund_create(const struct h_provider *p, const char *pi_id, long long amount,
                              const char *reason, const char *refund_id,
                              const char *idempotency_key, struct h_provider_refund *out,
                              struct h_provider_error *err) {
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

static h_result refund_fetch(const struct h_provider *p, const char *refund_id,
                             struct h_provider_refund *out, struct h_provider_error *err) {
  char *path = h_stripe_object_path("refunds", refund_id, "");
  h_result r = refund_call(p, "GET", path, NULL, NULL, out, err);
  free(path);
  return r;
}

static h_result customer_create(const struct h_provider *p, const char *user_id, const char *email,
                                const char *idempotency_key, char id[H_PROVIDER_ID_LEN],
                                struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  if (email != NULL) {
    h_stripe_form_add(&f, "email", email);
  }
  h_stripe_form_add(&f, "metadata[herald_user_id]", user_id);
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, "POST", "/v1/customers", &f, idempotency_key, &resp);
  id[0] = '\0';
  if (r == H_OK) {
    h_stripe_copy_str(resp.body, "id", id, H_PROVIDER_ID_LEN);
    r = id[0] != '\0' ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  h_stripe_form_free(&f);
  return r;
}

/* Runs a call whose answer Herald only checks for success. */
static h_result plain_call(const struct h_provider *p, const char *path, struct h_stripe_form *f,
                           const char *key, struct h_provider_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, "POST", path, f, key, &resp);
  if (r != H_OK) {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

static h_result customer_set_default(const struct h_provider *p, const char *customer,
                                     const char *payment_method, const char *idempotency_key,
                                     struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "invoice_settings[default_payment_method]",
                    payment_method != NULL ? payment_method : "");
  char *path = h_stripe_object_path("customers", customer, "");
  h_result r = plain_call(p, path, &f, idempotency_key, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result method_attach(const struct h_provider *p, const char *payment_method,
                              const char *customer, const char *idempotency_key,
                              struct h_provider_method *out, struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "customer", customer);
  char *path = h_stripe_object_path("payment_methods", payment_method, "/attach");
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, "POST", path, &f, idempotency_key, &resp);
  memset(out, 0, sizeof(*out));
  if (r == H_OK) {
    r = method_read(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result method_detach(const struct h_provider *p, const char *payment_method,
                              const char *idempotency_key, struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  char *path = h_stripe_object_path("payment_methods", payment_method, "/detach");
  h_result r = plain_call(p, path, &f, idempotency_key, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

/* A listed object in Herald's terms (currency upper case). New reference. */
static json_t *list_view(const json_t *o) {
  char cur[4] = "";
  const char *c = json_string_value(json_object_get(o, "currency"));
  for (int i = 0; c != NULL && i < 3 && c[i] != '\0'; i++) {
    cur[i] = (char)toupper((unsigned char)c[i]);
    cur[i + 1] = '\0';
  }
  const char *status = json_string_value(json_object_get(o, "status"));
  return json_pack("{sOsIsssssI}", "id", json_object_get(o, "id"), "amount",
                   json_integer_value(json_object_get(o, "amount")), "currency", cur, "status",
                   status != NULL ? status : "", "created",
                   json_integer_value(json_object_get(o, "created")));
}

/* Every object of a Stripe list in [since, until), keyed by id, into into. */
static h_result fetch_list(const struct h_provider *p, const char *path, time_t since, time_t until,
                           json_t *into) {
  char last[H_PROVIDER_ID_LEN] = "";
  for (;;) {
    struct h_stripe_form f = {0};
    h_stripe_form_add_ll(&f, "created[gte]", (long long)since);
    h_stripe_form_add_ll(&f, "created[lt]", (long long)until);
    h_stripe_form_add_ll(&f, "limit", 100);
    if (last[0] != '\0') {
      h_stripe_form_add(&f, "starting_after", last);
    }
    struct h_stripe_response resp = {0};
    h_result r = h_stripe_provider_call(p, "GET", path, &f, NULL, &resp);
    h_stripe_form_free(&f);
    json_t *data = json_object_get(resp.body, "data");
    size_t i;
    json_t *o;
    json_array_foreach(data, i, o) {
      const char *id = json_string_value(json_object_get(o, "id"));
      if (id != NULL) {
        json_object_set_new(into, id, list_view(o));
        snprintf(last, sizeof(last), "%s", id);
      }
    }
    bool more = r == H_OK && json_is_true(json_object_get(resp.body, "has_more")) &&
                json_array_size(data) > 0;
    h_stripe_response_free(&resp);
    if (r != H_OK || !more) {
      return r;
    }
  }
}

static h_result payment_list(const struct h_provider *p, time_t since, time_t until, json_t *into) {
  return fetch_list(p, "/v1/payment_intents", since, until, into);
}

static h_result refund_list(const struct h_provider *p, time_t since, time_t until, json_t *into) {
  return fetch_list(p, "/v1/refunds", since, until, into);
}

static const struct h_provider_ops stripe_ops = {
  .name = "stripe",
  .currencies = "*",
  .create_replayable = true,
  .payment_create = payment_create,
  .payment_confirm = payment_confirm,
  .payment_cancel = payment_cancel,
  .payment_fetch = payment_fetch,
  .refund_create = refund_create,
  .refund_fetch = refund_fetch,
  .customer_create = customer_create,
  .customer_set_default = customer_set_default,
  .method_attach = method_attach,
  .method_detach = method_detach,
  .payment_read = payment_read,
  .refund_read = refund_read,
  .payment_list = payment_list,
  .refund_list = refund_list,
};

bool h_stripe_provider_init(struct h_provider *p, const struct h_config *cfg,
                            const char *request_id) {
  p->ops = &stripe_ops;
  p->state = cfg;
  p->request_id = request_id;
  return cfg->stripe_secret_key != NULL && cfg->stripe_secret_key[0] != '\0' &&
         cfg->stripe_api_base != NULL && cfg->stripe_api_base[0] != '\0';
}

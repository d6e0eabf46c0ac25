/* stripe_billing.c - Stripe Billing: a plan as a product and a recurring price,
 * subscriptions (POST /v1/subscriptions, updates, DELETE to cancel) and reading
 * subscription and invoice objects. */
#include "payments/stripe/stripe_billing.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "payments/stripe/stripe_calls.h"

static long long int_of(const json_t *obj, const char *name) {
  return (long long)json_integer_value(json_object_get(obj, name));
}

static h_result subscription_read(const json_t *obj, struct h_provider_subscription *out) {
  memset(out, 0, sizeof(*out));
  if (!h_stripe_is_object(obj, "subscription")) {
    return H_ERR_INVALID;
  }
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_ref(obj, "customer", out->customer, sizeof(out->customer));
  h_stripe_copy_str(obj, "status", out->status, sizeof(out->status));
  const json_t *item = json_array_get(json_object_get(json_object_get(obj, "items"), "data"), 0);
  h_stripe_copy_str(item, "id", out->item, sizeof(out->item));
  h_stripe_copy_ref(item, "price", out->price, sizeof(out->price));
  h_stripe_copy_str(json_object_get(obj, "metadata"), "herald_subscription_id",
                    out->herald_subscription_id, sizeof(out->herald_subscription_id));
  out->cancel_at_period_end = json_is_true(json_object_get(obj, "cancel_at_period_end"));
  out->current_period_start = int_of(obj, "current_period_start");
  out->current_period_end = int_of(obj, "current_period_end");
  out->trial_end = int_of(obj, "trial_end");
  out->canceled_at = int_of(obj, "canceled_at");
  return out->status[0] != '\0' ? H_OK : H_ERR_INVALID;
}

static h_result invoice_read(const json_t *obj, struct h_provider_invoice *out) {
  memset(out, 0, sizeof(*out));
  if (!h_stripe_is_object(obj, "invoice")) {
    return H_ERR_INVALID;
  }
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_ref(obj, "subscription", out->subscription, sizeof(out->subscription));
  h_stripe_copy_str(obj, "status", out->status, sizeof(out->status));
  h_stripe_copy_currency(obj, "currency", out->currency);
  out->amount_due = int_of(obj, "amount_due");
  out->amount_paid = int_of(obj, "amount_paid");
  out->attempt_count = (int)int_of(obj, "attempt_count");
  return out->subscription[0] != '\0' && out->status[0] != '\0' ? H_OK : H_ERR_INVALID;
}

/* Runs a call whose answer is a subscription. */
static h_result sub_call(const struct h_provider *p, const char *method, const char *path,
                         const struct h_stripe_form *form, const char *key,
                         struct h_provider_subscription *out, struct h_provider_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, method, path, form, key, &resp);
  if (r == H_OK) {
    r = subscription_read(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

/* Runs a call and copies the answer's id into id (may be NULL). */
static h_result id_call(const struct h_provider *p, const char *path,
                        const struct h_stripe_form *form, const char *key, char *id,
                        struct h_provider_error *err) {
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, "POST", path, form, key, &resp);
  if (r == H_OK && id != NULL) {
    h_stripe_copy_str(resp.body, "id", id, H_PROVIDER_ID_LEN);
    r = id[0] != '\0' ? H_OK : H_ERR_UNAVAILABLE;
  } else if (r != H_OK) {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  return r;
}

static h_result plan_create(const struct h_provider *p, const struct h_billing_plan_params *in,
                            const char *idem_key, char product[H_PROVIDER_ID_LEN],
                            char price[H_PROVIDER_ID_LEN], struct h_provider_error *err) {
  struct h_stripe_form f = {0}, g = {0};
  h_stripe_form_add(&f, "name", in->name);
  h_stripe_form_add(&f, "metadata[herald_plan_id]", in->plan_id);
  char *key = h_sprintf("%s-product", idem_key);
  h_result r = id_call(p, "/v1/products", &f, key, product, err);
  free(key);
  if (r == H_OK) {
    char currency[4] = {0};
    for (int i = 0; i < 3 && in->currency[i] != '\0'; i++) {
      currency[i] = (char)(in->currency[i] | 0x20);
    }
    h_stripe_form_add(&g, "product", product);
    h_stripe_form_add_ll(&g, "unit_amount", in->amount);
    h_stripe_form_add(&g, "currency", currency);
    h_stripe_form_add(&g, "recurring[interval]", in->interval);
    h_stripe_form_add_ll(&g, "recurring[interval_count]", in->interval_count);
    h_stripe_form_add(&g, "metadata[herald_plan_id]", in->plan_id);
    key = h_sprintf("%s-price", idem_key);
    r = id_call(p, "/v1/prices", &g, key, price, err);
    free(key);
  }
  h_stripe_form_free(&f);
  h_stripe_form_free(&g);
  return r;
}

static h_result plan_update(const struct h_provider *p, const char *product, const char *name,
                            bool active, const char *idem_key, struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  if (name != NULL) {
    h_stripe_form_add(&f, "name", name);
  }
  h_stripe_form_add(&f, "active", active ? "true" : "false");
  char *path = h_stripe_object_path("products", product, "");
  h_result r = id_call(p, path, &f, idem_key, NULL, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result subscription_create(const struct h_provider *p, const char *customer,
                                    const char *price, int trial_days, const char *method,
                                    const char *herald_id, const char *idem_key,
                                    struct h_provider_subscription *out,
                                    struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "customer", customer);
  h_stripe_form_add(&f, "items[0][price]", price);
  if (trial_days > 0) {
    h_stripe_form_add_ll(&f, "trial_period_days", trial_days);
  }
  if (method != NULL && method[0] != '\0') {
    h_stripe_form_add(&f, "default_payment_method", method);
  }
  h_stripe_form_add(&f, "metadata[herald_subscription_id]", herald_id);
  h_result r = sub_call(p, "POST", "/v1/subscriptions", &f, idem_key, out, err);
  h_stripe_form_free(&f);
  return r;
}

static h_result subscription_update(const struct h_provider *p, const char *id,
                                    const struct h_billing_change *change, const char *idem_key,
                                    struct h_provider_subscription *out,
                                    struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  if (change->cancel_at_period_end >= 0) {
    h_stripe_form_add(&f, "cancel_at_period_end", change->cancel_at_period_end ? "true" : "false");
  }
  if (change->price != NULL) {
    h_stripe_form_add(&f, "items[0][id]", change->item);
    h_stripe_form_add(&f, "items[0][price]", change->price);
    h_stripe_form_add(&f, "proration_behavior", "create_prorations");
  }
  char *path = h_stripe_object_path("subscriptions", id, "");
  h_result r = sub_call(p, "POST", path, &f, idem_key, out, err);
  free(path);
  h_stripe_form_free(&f);
  return r;
}

static h_result subscription_cancel(const struct h_provider *p, const char *id,
                                    const char *idem_key, struct h_provider_subscription *out,
                                    struct h_provider_error *err) {
  char *path = h_stripe_object_path("subscriptions", id, "");
  h_result r = sub_call(p, "DELETE", path, NULL, idem_key, out, err);
  free(path);
  return r;
}

static h_result subscription_fetch(const struct h_provider *p, const char *id,
                                   struct h_provider_subscription *out,
                                   struct h_provider_error *err) {
  char *path = h_stripe_object_path("subscriptions", id, "");
  h_result r = sub_call(p, "GET", path, NULL, NULL, out, err);
  free(path);
  return r;
}

const struct h_billing_ops h_stripe_billing_ops = {
  .plan_create = plan_create,
  .plan_update = plan_update,
  .subscription_create = subscription_create,
  .subscription_update = subscription_update,
  .subscription_cancel = subscription_cancel,
  .subscription_fetch = subscription_fetch,
  .subscription_read = subscription_read,
  .invoice_read = invoice_read,
};

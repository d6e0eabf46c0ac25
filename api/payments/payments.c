/* payments.c - /api/v1/payments: create, list, read, confirm, cancel. */
#include <stdio.h>
#include <string.h>

#include "store/idempotency.h"
#include "core/money.h"
#include "payments/mpesa/mpesa.h"
#include "payments/payment_http.h"
#include "payments/payment_service.h"
#include "payments/payment_state.h"
#include "payments/payments.h"
#include "http/idempotency.h"
#include "http/request.h"

#define METADATA_MAX_KEYS 20

/* Checks metadata: an object of at most 20 string values, keys 1-40 characters
 * without brackets and not starting with herald_ (reserved), values up to 500. */
static const json_t *field_metadata(const json_t *body, struct h_field_errors *fe) {
  const json_t *md = json_object_get(body, "metadata");
  if (md == NULL || json_is_null(md)) {
    return NULL;
  }
  if (!json_is_object(md) || json_object_size(md) > METADATA_MAX_KEYS) {
    h_field_error(fe, "metadata", "invalid_metadata",
                  "Must be an object of at most %d string values.", METADATA_MAX_KEYS);
    return NULL;
  }
  const char *key;
  const json_t *value;
  size_t before = h_field_errors_count(fe);
  json_object_foreach((json_t *)md, key, value) {
    size_t n = strlen(key);
    char param[64];
    snprintf(param, sizeof(param), "metadata.%.40s", key);
    if (n == 0 || n > 40 || strpbrk(key, "[]") != NULL || strncmp(key, "herald_", 7) == 0) {
      h_field_error(fe, param, "invalid_metadata_key",
                    "Keys are 1-40 characters without [ ] and do not start with herald_.");
    } else if (!json_is_string(value) || strlen(json_string_value(value)) > 500) {
      h_field_error(fe, param, "invalid_metadata_value",
                    "Values are strings of at most 500 characters.");
    }
  }
  return h_field_errors_count(fe) == before ? md : NULL;
}

/* Reads currency and amount together (the amount rules depend on the currency). */
static void field_money(const json_t *body, const struct h_config *cfg, char currency[4],
                        long long *amount, struct h_field_errors *fe) {
  const char *cur = h_field_string(body, "currency", true, 3, fe);
  bool has_amount = h_payment_field_integer(body, "amount", true, amount, fe);
  const struct h_currency *c = NULL;
  if (cur != NULL) {
    c = h_currency_find(cur);
    if (c == NULL) {
      h_field_error(fe, "currency", "invalid_currency", "Must be an ISO 4217 code such as USD.");
    } else if (!h_currency_enabled(cfg->payment_currencies, cur)) {
      h_field_error(fe, "currency", "unsupported_currency",
                    "Payments in %s are not accepted here.", c->code);
      c = NULL;
    } else {
      memcpy(currency, c->code, 4);
    }
  }
  const char *why = has_amount ? h_money_check_amount(c, *amount, cfg->payment_max_amount) : NULL;
  if (why != NULL) {
    h_field_error(fe, "amount", why,
                  "Must be a positive integer in minor units, at least the currency's minimum "
                  "and at most %d.", cfg->payment_max_amount);
  }
}

/* Reads provider and, for M-Pesa, the payer's phone (into msisdn, passed on as the payment
 * method) and the M-Pesa rules: KES in whole shillings, no saved method, pushed at once. */
static void field_provider(const json_t *body, const struct h_config *cfg,
                           struct h_payment_create *in, char msisdn[13],
                           struct h_field_errors *fe) {
  in->provider = h_field_string(body, "provider", false, 16, fe);
  if (in->provider != NULL && !h_provider_name_valid(in->provider)) {
    h_field_error(fe, "provider", "invalid_provider", "Must be stripe or mpesa.");
    return;
  }
  const char *name = in->provider != NULL ? in->provider : cfg->payment_default_provider;
  const char *phone = h_field_string(body, "phone", false, 16, fe);
  if (strcmp(name, "mpesa") != 0) {
    if (phone != NULL) {
      h_field_error(fe, "phone", "not_allowed", "Only M-Pesa payments take a phone number.");
    }
    return;
  }
  if (phone == NULL || !h_mpesa_msisdn(phone, msisdn)) {
    h_field_error(fe, "phone", phone == NULL ? "missing_field" : "invalid_phone",
                  "M-Pesa needs the payer's Kenyan mobile number in E.164 (+2547XXXXXXXX).");
  }
  if (json_object_get(body, "payment_method_id") != NULL) {
    h_field_error(fe, "payment_method_id", "not_allowed",
                  "M-Pesa payments are confirmed on the payer's phone, not with a method.");
  }
  if (in->currency[0] != '\0' && strcmp(in->currency, "KES") != 0) {
    h_field_error(fe, "currency", "unsupported_currency", "M-Pesa takes KES only.");
  } else if (in->amount % 100 != 0) {
    h_field_error(fe, "amount", "invalid_amount",
                  "M-Pesa takes whole shillings: a multiple of 100 minor units.");
  }
  in->payment_method = msisdn;
  in->confirm = true;
}

/* Parses the create body into in; false when it replied 400. */
static bool parse_create(struct h_req *rq, struct h_payment_create *in, char currency[4],
                         char msisdn[13]) {
  static const char *const allowed[] = {"amount", "currency", "payment_type", "description",
                                        "metadata", "payment_method_id", "confirm", "provider",
                                        "phone", NULL};
  struct h_field_errors fe = {0};
  const json_t *body = rq->body;
  h_reject_unknown(body, allowed, &fe);
  field_money(body, rq->app->cfg, currency, &in->amount, &fe);
  in->currency = currency;
  in->payment_type = h_field_string(body, "payment_type", true, 32, &fe);
  if (in->payment_type != NULL && !h_payment_type_valid(in->payment_type)) {
    h_field_error(&fe, "payment_type", "invalid_payment_type",
                  "Must be tournament_fee, coaching_session, venue_booking, subscription or "
                  "other.");
  }
  in->description = h_field_string(body, "description", false, 1000, &fe);
  in->metadata = field_metadata(body, &fe);
  in->payment_method = h_payment_field_method(body, &fe);
  h_field_bool(body, "confirm", false, &in->confirm, &fe);
  field_provider(body, rq->app->cfg, in, msisdn, &fe);
  const char *key = h_req_header(rq, "Idempotency-Key");
  if (key == NULL) {
    h_field_error(&fe, "Idempotency-Key", "missing_idempotency_key",
                  "Send an Idempotency-Key header (e.g. a UUID) so a retry cannot pay twice.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return false;
  }
  return true;
}

void h_payments_post(struct h_req *rq) {
  struct h_payment_create in = {0};
  char currency[4] = "", msisdn[13] = "";
  if (h_payment_body(rq, false) == NULL || !parse_create(rq, &in, currency, msisdn)) {
    return;
  }
  if (!h_payments_enabled(rq->app, in.provider)) {
    h_reply_error(rq, H_ERR_UNAVAILABLE, "payments_not_configured",
                  "Payments are not configured on this server.", NULL);
    return;
  }
  struct h_idem idem;
  if (!h_http_idem_begin(rq, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *payment = NULL;
  enum h_outcome outcome;
  h_result r = h_payment_create(rq->app, &actor, rq->user_id, &in, &idem, &payment, &outcome,
                                &err);
  h_payment_send(rq, r, outcome, payment, &err);
}

/* Reads one optional enum filter. */
static const char *filter(const struct h_req *rq, const char *name, bool (*valid)(const char *),
                          struct h_field_errors *fe) {
  const char *v = h_req_param(rq, name);
  if (v != NULL && !valid(v)) {
    h_field_error(fe, name, "invalid_filter", "Not a known value.");
    return NULL;
  }
  return v;
}

void h_payments_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  struct h_payment_filter f = {
    .status = filter(rq, "status", h_payment_status_valid, &fe),
    .payment_type = filter(rq, "payment_type", h_payment_type_valid, &fe),
    .created_gte = h_payment_param_time(rq, "created_gte", &fe),
    .created_lte = h_payment_param_time(rq, "created_lte", &fe),
  };
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_payment_viewer v = h_payment_viewer_of(rq);
  json_t *data = NULL;
  bool more = false;
  h_result r = h_payment_list(rq->app, &v, &f, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    json_decref(data);
    h_reply_error(rq, r, NULL, "The payments could not be read.", NULL);
  }
}

void h_payment_get(struct h_req *rq) {
  const char *id = h_payment_path_id(rq, "payment");
  if (id == NULL) {
    return;
  }
  struct h_payment_viewer v = h_payment_viewer_of(rq);
  struct h_error err;
  json_t *payment = NULL;
  h_result r = h_payment_find(rq->app, &v, id, &payment, &err);
  h_payment_send(rq, r, H_OUTCOME_OK, payment, &err);
}

void h_payment_confirm_post(struct h_req *rq) {
  static const char *const allowed[] = {"payment_method_id", NULL};
  const char *id = h_payment_path_id(rq, "payment");
  const json_t *body = id != NULL ? h_payment_body(rq, true) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *pm = h_payment_field_method(body, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_error err;
  json_t *payment = NULL;
  enum h_outcome outcome;
  h_result r = h_payment_confirm(rq->app, &actor, rq->user_id, id, pm, &payment, &outcome, &err);
  h_payment_send(rq, r, outcome, payment, &err);
}

void h_payment_cancel_post(struct h_req *rq) {
  static const char *const allowed[] = {"cancellation_reason", NULL};
  const char *id = h_payment_path_id(rq, "payment");
  const json_t *body = id != NULL ? h_payment_body(rq, true) : NULL;
  if (body == NULL) {
    return;
  }
  struct h_field_errors fe = {0};
  h_reject_unknown(body, allowed, &fe);
  const char *reason = h_field_string(body, "cancellation_reason", false, 32, &fe);
  if (reason != NULL && !h_cancellation_reason_valid(reason)) {
    h_field_error(&fe, "cancellation_reason", "invalid_reason",
                  "Must be duplicate, fraudulent, requested_by_customer or abandoned.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_payment_viewer v = h_payment_viewer_of(rq);
  struct h_error err;
  json_t *payment = NULL;
  enum h_outcome outcome;
  h_result r = h_payment_cancel(rq->app, &actor, &v, id, reason, &payment, &outcome, &err);
  h_payment_send(rq, r, outcome, payment, &err);
}

void h_payments_config_get(struct h_req *rq) {
  h_reply_json(rq, 200, h_payment_config(rq->app));
}

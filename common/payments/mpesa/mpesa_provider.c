/* mpesa_provider.c - the payment provider interface over M-Pesa: STK push payments, the
 * status query as fetch, reversals as refunds, and the reading of Daraja's callbacks. */
#include "payments/mpesa/mpesa_provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "payments/mpesa/mpesa.h"

void h_mpesa_result_status(int result_code, char *status, char *cancellation_reason) {
  const char *s = result_code == -1   ? "processing"
                  : result_code == 0  ? "succeeded"
                  : result_code == 1032 ? "canceled"
                                        : "failed";
  snprintf(status, 32, "%s", s);
  snprintf(cancellation_reason, 40, "%s", result_code == 1032 ? "canceled_by_payer" : "");
}

/* Fills pay's status, cancellation reason and (when failed) last_payment_error from a
 * ResultCode and its description. */
static void set_result(struct h_provider_payment *pay, int code, const char *desc) {
  h_mpesa_result_status(code, pay->status, pay->cancellation_reason);
  if (code > 0) {
    char name[32];
    snprintf(name, sizeof(name), "mpesa_%d", code);
    pay->last_payment_error =
        json_pack("{sssnsiss}", "code", code == 1 ? "insufficient_funds"
                                  : code == 1037 ? "payer_unreachable"
                                  : code == 1032 ? "canceled_by_payer"
                                                 : name,
                  "decline_code", "result_code", code, "message", desc != NULL ? desc : "");
  }
}

/* The callback URLs (STK push results and reversal results: the same one) and the client
 * configuration of p's calls; the URLs are written into urls (2 x 512 bytes). */
static struct h_mpesa_config config_of(const struct h_provider *p, char urls[2][512]) {
  const struct h_config *cfg = p->state;
  snprintf(urls[0], 512, "%s/api/v1/webhooks/mpesa/%s", cfg->mpesa_callback_base_url,
           cfg->mpesa_callback_secret);
  memcpy(urls[1], urls[0], 512); /* reversal results come to the same path */
  struct h_mpesa_config c = {
    .api_base = cfg->mpesa_api_base, .consumer_key = cfg->mpesa_consumer_key,
    .consumer_secret = cfg->mpesa_consumer_secret, .shortcode = cfg->mpesa_shortcode,
    .passkey = cfg->mpesa_passkey, .callback_url = urls[0], .result_url = urls[1],
    .initiator = cfg->mpesa_initiator, .security_credential = cfg->mpesa_security_credential,
    .timeout_ms = cfg->mpesa_timeout_ms, .request_id = p->request_id,
  };
  return c;
}

/* Copies Daraja's refusal into err (may be NULL) under code. */
static void give_error(const struct h_mpesa_answer *a, const char *code,
                       struct h_provider_error *err) {
  if (err != NULL) {
    snprintf(err->type, sizeof(err->type), "invalid_request_error");
    snprintf(err->code, sizeof(err->code), "%s", code);
    snprintf(err->message, sizeof(err->message), "M-Pesa: %.40s%s%.200s", a->code,
             a->message[0] != '\0' ? " " : "", a->message);
  }
}

static h_result payment_create(const struct h_provider *p,
                               const struct h_provider_payment_params *in, const char *idem_key,
                               struct h_provider_payment *out, struct h_provider_error *err) {
  (void)idem_key; /* Daraja has no idempotency keys: a lost answer is settled by the query */
  char urls[2][512], reference[13];
  struct h_mpesa_config cfg = config_of(p, urls);
  h_provider_payment_clear(out);
  snprintf(reference, sizeof(reference), "%.12s", in->payment_id);
  struct h_mpesa_answer a;
  h_result r = h_mpesa_stk_push(&cfg, in->payment_method != NULL ? in->payment_method : "",
                                in->amount / 100, reference,
                                in->description != NULL ? in->description : in->payment_type,
                                &a);
  if (r != H_OK) {
    give_error(&a, "mpesa_rejected", err);
    return r;
  }
  snprintf(out->id, sizeof(out->id), "%s", a.checkout_id);
  snprintf(out->status, sizeof(out->status), "processing");
  snprintf(out->herald_payment_id, sizeof(out->herald_payment_id), "%s", in->payment_id);
  snprintf(out->payment_method, sizeof(out->payment_method), "%s",
           in->payment_method != NULL ? in->payment_method : "");
  out->amount = in->amount;
  return H_OK;
}

/* Confirmation and cancellation: an STK push is confirmed or refused on the phone. */
static h_result payment_confirm(const struct h_provider *p, const char *id, const char *method,
                                const char *idem_key, struct h_provider_payment *out,
                                struct h_provider_error *err) {
  (void)p, (void)id, (void)method, (void)idem_key, (void)out;
  struct h_mpesa_answer a = {.code = "unsupported", .message = "the payer confirms on the phone"};
  give_error(&a, "not_supported", err);
  return H_ERR_INVALID;
}

static h_result payment_cancel(const struct h_provider *p, const char *id, const char *reason,
                               const char *idem_key, struct h_provider_payment *out,
                               struct h_provider_error *err) {
  (void)reason;
  return payment_confirm(p, id, NULL, idem_key, out, err);
}

static h_result payment_fetch(const struct h_provider *p, const char *id,
                              struct h_provider_payment *out, struct h_provider_error *err) {
  char urls[2][512];
  struct h_mpesa_config cfg = config_of(p, urls);
  h_provider_payment_clear(out);
  struct h_mpesa_answer a;
  h_result r = h_mpesa_stk_query(&cfg, id, &a);
  if (r != H_OK) {
    give_error(&a, "mpesa_query_failed", err);
    return r == H_ERR_INVALID ? H_ERR_NOT_FOUND : r; /* an id M-Pesa does not know */
  }
  snprintf(out->id, sizeof(out->id), "%s", id);
  set_result(out, a.result_code, a.message);
  return H_OK;
}

static h_result refund_create(const struct h_provider *p, const char *payment, long long amount,
                              const char *reason, const char *refund_id, const char *idem_key,
                              struct h_provider_refund *out, struct h_provider_error *err) {
  (void)idem_key; /* M-Pesa refuses to reverse a transaction twice */
  char urls[2][512];
  struct h_mpesa_config cfg = config_of(p, urls);
  memset(out, 0, sizeof(*out));
  struct h_mpesa_answer a = {0};
  if (cfg.initiator[0] == '\0' || cfg.security_credential[0] == '\0') {
    snprintf(a.message, sizeof(a.message), "reversals are not configured");
    give_error(&a, "refunds_not_configured", err);
    return H_ERR_INVALID;
  }
  if (strncmp(payment, "ws_CO_", 6) == 0) { /* no receipt number: nothing to reverse by */
    snprintf(a.message, sizeof(a.message), "the payment has no M-Pesa receipt number");
    give_error(&a, "no_receipt_number", err);
    return H_ERR_INVALID;
  }
  h_result r = h_mpesa_reversal(&cfg, payment, amount / 100, reason != NULL ? reason : "refund",
                                &a);
  if (r != H_OK) {
    give_error(&a, "mpesa_rejected", err);
    return r;
  }
  snprintf(out->id, sizeof(out->id), "%s", a.conversation_id);
  snprintf(out->status, sizeof(out->status), "pending");
  snprintf(out->payment, sizeof(out->payment), "%s", payment);
  snprintf(out->herald_refund_id, sizeof(out->herald_refund_id), "%s", refund_id);
  snprintf(out->currency, sizeof(out->currency), "KES");
  out->amount = amount;
  return H_OK;
}

/* A reversal's result only arrives by callback: there is nothing to fetch. */
static h_result refund_fetch(const struct h_provider *p, const char *id,
                             struct h_provider_refund *out, struct h_provider_error *err) {
  (void)p, (void)id;
  memset(out, 0, sizeof(*out));
  if (err != NULL) {
    snprintf(err->message, sizeof(err->message), "M-Pesa reversals report by callback only");
  }
  return H_ERR_UNAVAILABLE;
}

/* The Value of the item called name in CallbackMetadata.Item (borrowed), or NULL. */
static const json_t *item(const json_t *cb, const char *name) {
  const json_t *items = json_object_get(json_object_get(cb, "CallbackMetadata"), "Item");
  size_t i;
  const json_t *it;
  json_array_foreach(items, i, it) {
    const char *n = json_string_value(json_object_get(it, "Name"));
    if (n != NULL && strcmp(n, name) == 0) {
      return json_object_get(it, "Value");
    }
  }
  return NULL;
}

static h_result callback_payment_read(const json_t *body, struct h_provider_payment *out) {
  h_provider_payment_clear(out);
  const json_t *cb = json_object_get(json_object_get(body, "Body"), "stkCallback");
  if (cb == NULL) {
    return json_is_object(json_object_get(body, "Result")) ? H_ERR_NOT_FOUND : H_ERR_INVALID;
  }
  const char *id = json_string_value(json_object_get(cb, "CheckoutRequestID"));
  const json_t *code = json_object_get(cb, "ResultCode");
  if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(out->id) || !json_is_integer(code)) {
    return H_ERR_INVALID;
  }
  snprintf(out->id, sizeof(out->id), "%s", id);
  set_result(out, (int)json_integer_value(code),
             json_string_value(json_object_get(cb, "ResultDesc")));
  const json_t *receipt = item(cb, "MpesaReceiptNumber"), *amount = item(cb, "Amount");
  if (json_is_string(receipt) && strlen(json_string_value(receipt)) < sizeof(out->reference)) {
    snprintf(out->reference, sizeof(out->reference), "%s", json_string_value(receipt));
  }
  out->amount = json_is_number(amount) ? (long long)(json_number_value(amount) * 100) : -1;
  return H_OK;
}

static h_result callback_refund_read(const json_t *body, struct h_provider_refund *out) {
  memset(out, 0, sizeof(*out));
  const json_t *res = json_object_get(body, "Result");
  if (res == NULL) {
    return json_is_object(json_object_get(body, "Body")) ? H_ERR_NOT_FOUND : H_ERR_INVALID;
  }
  const char *id = json_string_value(json_object_get(res, "ConversationID"));
  const json_t *code = json_object_get(res, "ResultCode");
  if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(out->id) || !json_is_integer(code)) {
    return H_ERR_INVALID;
  }
  snprintf(out->id, sizeof(out->id), "%s", id);
  bool ok = json_integer_value(code) == 0;
  snprintf(out->status, sizeof(out->status), "%s", ok ? "succeeded" : "failed");
  const char *desc = json_string_value(json_object_get(res, "ResultDesc"));
  if (!ok) {
    snprintf(out->failure_reason, sizeof(out->failure_reason), "%s", desc ? desc : "");
  }
  snprintf(out->currency, sizeof(out->currency), "KES");
  return H_OK;
}

static const struct h_provider_ops mpesa_ops = {
  .name = "mpesa",
  .currencies = "KES",
  .payment_create = payment_create,
  .payment_confirm = payment_confirm,
  .payment_cancel = payment_cancel,
  .payment_fetch = payment_fetch,
  .refund_create = refund_create,
  .refund_fetch = refund_fetch,
  .callback_payment_read = callback_payment_read,
  .callback_refund_read = callback_refund_read,
};

bool h_mpesa_provider_init(struct h_provider *p, const struct h_config *cfg,
                           const char *request_id) {
  p->ops = &mpesa_ops;
  p->state = cfg;
  p->request_id = request_id;
  const char *need[] = {cfg->mpesa_api_base, cfg->mpesa_consumer_key,
                        cfg->mpesa_consumer_secret, cfg->mpesa_shortcode, cfg->mpesa_passkey,
                        cfg->mpesa_callback_base_url, cfg->mpesa_callback_secret};
  for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
    if (need[i] == NULL || need[i][0] == '\0') {
      return false;
    }
  }
  return true;
}

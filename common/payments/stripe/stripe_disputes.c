/* stripe_disputes.c - Stripe disputes: reading dispute objects (charge.dispute.*
 * events) and submitting evidence (POST /v1/disputes/{id} with submit=true). */
#include "payments/stripe/stripe_disputes.h"

#include <stdlib.h>
#include <string.h>

#include "payments/stripe/stripe_calls.h"

static h_result dispute_read(const json_t *obj, struct h_provider_dispute *out) {
  memset(out, 0, sizeof(*out));
  if (!h_stripe_is_object(obj, "dispute")) {
    return H_ERR_INVALID;
  }
  h_stripe_copy_str(obj, "id", out->id, sizeof(out->id));
  h_stripe_copy_ref(obj, "payment_intent", out->payment, sizeof(out->payment));
  h_stripe_copy_str(obj, "status", out->status, sizeof(out->status));
  h_stripe_copy_str(obj, "reason", out->reason, sizeof(out->reason));
  h_stripe_copy_currency(obj, "currency", out->currency);
  out->amount = (long long)json_integer_value(json_object_get(obj, "amount"));
  const json_t *details = json_object_get(obj, "evidence_details");
  out->evidence_due_by = (long long)json_integer_value(json_object_get(details, "due_by"));
  if (out->payment[0] == '\0' || out->status[0] == '\0' || out->amount <= 0 ||
      strlen(out->currency) != 3) {
    return H_ERR_INVALID;
  }
  if (out->reason[0] == '\0') {
    strcpy(out->reason, "general");
  }
  return H_OK;
}

static h_result evidence_submit(const struct h_provider *p, const char *id, const char *text,
                                const char *idem_key, struct h_provider_dispute *out,
                                struct h_provider_error *err) {
  struct h_stripe_form f = {0};
  h_stripe_form_add(&f, "evidence[uncategorized_text]", text);
  h_stripe_form_add(&f, "submit", "true");
  char *path = h_stripe_object_path("disputes", id, "");
  struct h_stripe_response resp;
  h_result r = h_stripe_provider_call(p, "POST", path, &f, idem_key, &resp);
  if (r == H_OK) {
    r = dispute_read(resp.body, out) == H_OK ? H_OK : H_ERR_UNAVAILABLE;
  } else {
    h_stripe_give_error(&resp, err);
  }
  h_stripe_response_free(&resp);
  h_stripe_form_free(&f);
  free(path);
  return r;
}

const struct h_dispute_ops h_stripe_dispute_ops = {
  .dispute_read = dispute_read,
  .evidence_submit = evidence_submit,
};

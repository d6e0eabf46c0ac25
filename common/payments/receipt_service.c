/* receipt_service.c - reading receipts and rendering their HTML page. */
#include "payments/receipt_service.h"

#include <string.h>

#include "core/alloc.h"
#include "core/money.h"
#include "payments/receipt_repo.h"
#include "store/db.h"
#include "templates/template.h"
#include "templates/template_repo.h"

/* The HTML page; {{...}} are receipt members, HTML-escaped by the renderer. */
static const char *const page =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Receipt {{number}}</title><style>body{font-family:system-ui,sans-serif;"
    "max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}table{width:100%;"
    "border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #ddd}"
    "td+td{text-align:right}</style></head>\n<body>\n<h1>{{merchant}}</h1>\n"
    "<h2>Receipt {{number}}</h2>\n<table>\n"
    "<tr><td>Date</td><td>{{issued_at}}</td></tr>\n"
    "<tr><td>Paid by</td><td>{{payer_email}}</td></tr>\n"
    "<tr><td>For</td><td>{{payment_type}} {{description}}</td></tr>\n"
    "<tr><td>Paid with</td><td>{{provider}} {{provider_reference}}</td></tr>\n"
    "<tr><td><strong>Amount</strong></td><td><strong>{{amount_display}}</strong></td></tr>\n"
    "<tr><td>Refunded</td><td>{{amount_refunded_display}}</td></tr>\n"
    "</table>\n<p>Payment {{payment_id}}</p>\n</body></html>\n";

/* Adds the display amounts and the merchant to a receipt read from the database. */
static void complete(json_t *receipt, const struct h_app *app) {
  const char *code = json_string_value(json_object_get(receipt, "currency"));
  const struct h_currency *c = h_currency_find(code);
  char money[64], refunded[64];
  h_money_format(c, (long long)json_integer_value(json_object_get(receipt, "amount")), money,
                 sizeof(money));
  h_money_format(c, (long long)json_integer_value(json_object_get(receipt, "amount_refunded")),
                 refunded, sizeof(refunded));
  json_object_set_new(receipt, "amount_display", json_string(money));
  json_object_set_new(receipt, "amount_refunded_display", json_string(refunded));
  json_object_set_new(receipt, "merchant", json_string(app->cfg->product_name));
}

struct read_op {
  const struct h_payment_viewer *v;
  const char *id;
  json_t *out;
};

static h_result read_tx(PGconn *conn, void *arg) {
  struct read_op *o = arg;
  return h_receipt_repo_get_json(conn, o->id, o->v->admin ? NULL : o->v->user_id, &o->out);
}

h_result h_payment_receipt(struct h_app *app, const struct h_payment_viewer *v, const char *id,
                           json_t **receipt, struct h_error *err) {
  struct read_op o = {.v = v, .id = id};
  memset(err, 0, sizeof(*err));
  *receipt = NULL;
  h_result r = h_db_run(app->db, read_tx, &o);
  if (r == H_OK) {
    complete(o.out, app);
    *receipt = o.out;
    return r;
  }
  json_decref(o.out);
  return h_error_set(err, r, r == H_ERR_NOT_FOUND ? "not_found" : NULL,
                     r == H_ERR_NOT_FOUND ? "No receipt: no such payment of yours, or it has "
                                            "not succeeded."
                                          : "The receipt could not be read.",
                     NULL);
}

char *h_payment_receipt_html(const json_t *receipt) {
  json_t *data = json_deep_copy(receipt);
  const char *keys[] = {"description", "provider_reference", "payer_email"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (!json_is_string(json_object_get(data, keys[i]))) {
      json_object_set_new(data, keys[i], json_string(""));
    }
  }
  char *out = NULL;
  struct h_template_error err;
  if (h_template_render_text(page, data, true, &out, &err) != H_OK) {
    out = h_strdup("<!doctype html><p>The receipt could not be shown.</p>");
  }
  json_decref(data);
  return out;
}

h_result h_payment_receipt_mail(PGconn *conn, const json_t *data, const char *subject,
                                const char *text, char **out_subject, char **out_text) {
  json_t *tpl = NULL, *out = NULL;
  struct h_template_error err;
  h_result r = h_template_repo_get(conn, "payment_receipt", &tpl);
  const json_t *email = NULL;
  if (r == H_OK && h_template_render_channels(json_object_get(tpl, "channels"), data, &out,
                                              &err) == H_OK) {
    email = json_object_get(out, "email");
  }
  const char *s = json_string_value(json_object_get(email, "subject"));
  const char *t = json_string_value(json_object_get(email, "text"));
  *out_subject = h_strdup(s != NULL && t != NULL ? s : subject);
  *out_text = h_strdup(s != NULL && t != NULL ? t : text);
  json_decref(out);
  json_decref(tpl);
  return r == H_ERR_NOT_FOUND ? H_OK : r;
}

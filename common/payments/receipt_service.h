/* receipt_service.h - receipts of succeeded payments: reading one (the payer's own, or any
 * for admins) as data, and its HTML page rendered through the template engine.
 *
 * Numbers are given in payment_sync.c, in the transaction that moves a payment to
 * succeeded (receipt_repo.h), and the receipt e-mail is written there too. */
#ifndef HERALD_RECEIPT_SERVICE_H
#define HERALD_RECEIPT_SERVICE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "app/app.h"
#include "core/errors.h"
#include "payments/payment_service.h"

/* The receipt of payment id (caller frees *receipt): {"object":"receipt","number",
 * "payment_id","issued_at","merchant","payer_email","amount","amount_display","currency",
 * "amount_refunded","status","payment_type","description","provider","provider_reference",
 * "fees"}. H_ERR_NOT_FOUND (not_found) for another user's payment or one without a receipt
 * (not succeeded). err (caller clears) describes a failure. */
h_result h_payment_receipt(struct h_app *app, const struct h_payment_viewer *v, const char *id,
                           json_t **receipt, struct h_error *err);

/* The receipt (borrowed) as a small standalone HTML page in a new string (caller frees);
 * every value is HTML-escaped. */
char *h_payment_receipt_html(const json_t *receipt);

/* The receipt e-mail's subject and text, in the caller's transaction: the e-mail channel of
 * the template "payment_receipt" rendered with data (borrowed: payment_id, receipt_number,
 * amount, amount_display, currency, payment_type, description) when that template
 * (seeded, admins may replace it) exists and renders, else subject and text as given.
 * *out_subject and *out_text are new strings (caller frees). */
h_result h_payment_receipt_mail(PGconn *conn, const json_t *data, const char *subject,
                                const char *text, char **out_subject, char **out_text);

#endif

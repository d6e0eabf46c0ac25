/* receipt_repo.h - SQL for receipts: the per-year counter and the receipt view of a
 * payment. */
#ifndef HERALD_RECEIPT_REPO_H
#define HERALD_RECEIPT_REPO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/result.h"

/* Gives the payment (locked by the caller, in its transaction) the next receipt number of
 * the current UTC year ("2026-000042") unless it has one; out (32 bytes) receives the
 * payment's number either way. The counter row stays locked until the transaction ends, so
 * numbers are gapless and in commit order. */
h_result h_receipt_repo_assign(PGconn *conn, const char *payment_id, char out[32]);

/* The receipt of a payment as JSON (new reference for the caller); owner NULL matches any
 * user. H_ERR_NOT_FOUND when there is no such payment or it has no receipt. */
h_result h_receipt_repo_get_json(PGconn *conn, const char *payment_id, const char *owner,
                                 json_t **out);

#endif

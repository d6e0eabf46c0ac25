/* refund_request_repo.h - SQL for refund_requests. Every json_t ** out-parameter is a new
 * reference for the caller. */
#ifndef HERALD_REFUND_REQUEST_REPO_H
#define HERALD_REFUND_REQUEST_REPO_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/page.h"
#include "core/result.h"

/* Inserts a pending request for the payer's own succeeded payment with something left to
 * refund (amount <= 0: the rest; otherwise at most the rest). H_ERR_NOT_FOUND for no such
 * payment of user_id, H_ERR_UNPROCESSABLE when it cannot be refunded that much,
 * H_ERR_CONFLICT while another request of the payment is open. */
h_result h_refund_request_repo_insert(PGconn *conn, const char *payment_id, const char *user_id,
                                      long long amount, const char *reason, json_t **out);

/* Moves request id from status from to status to (decided_by, decision_reason and refund_id
 * may be NULL); H_ERR_NOT_FOUND when it is not in from. */
h_result h_refund_request_repo_move(PGconn *conn, const char *id, const char *from,
                                    const char *to, const char *decided_by,
                                    const char *decision_reason, const char *refund_id,
                                    json_t **out);

/* Requests, newest first; status NULL: any. */
h_result h_refund_request_repo_list(PGconn *conn, const char *status, const struct h_page *page,
                                    json_t **data, bool *has_more);

#endif

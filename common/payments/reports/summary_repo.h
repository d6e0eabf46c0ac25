/* summary_repo.h - SQL for the business figures of payments over a period. */
#ifndef HERALD_SUMMARY_REPO_H
#define HERALD_SUMMARY_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"

/* The figures of [from, to) (RFC 3339 text; from NULL: 30 days before to, to NULL: now) into
 * *out (new reference): {"from","to","by_status":[{"currency","status","count","volume"}],
 * "by_currency":[{"currency","succeeded_count","volume","refund_count","refunded",
 * "dispute_count","disputed","fees":{"provider","platform"},"net"}]}. Payments count by
 * creation time, refunds by theirs (succeeded ones only). H_ERR_INVALID when from is not
 * before to or, when bounded, the period is longer than 366 days. */
h_result h_summary_repo_period(PGconn *conn, const char *from, const char *to, bool bounded,
                               json_t **out);

#endif

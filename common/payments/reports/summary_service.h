/* summary_service.h - the business figures of payments: GET /admin/payments/summary for a
 * period, and the same figures (all time) as Prometheus gauges on the API's /metrics,
 * computed at most once a minute per process. */
#ifndef HERALD_SUMMARY_SERVICE_H
#define HERALD_SUMMARY_SERVICE_H

#include <jansson.h>
#include <stdio.h>

#include "app/app.h"
#include "core/errors.h"

/* The figures of [from, to) (RFC 3339, either NULL: see summary_repo.h) into *summary (caller
 * frees), with "object":"payment_summary". H_ERR_INVALID (invalid_period, param from) when
 * from is not before to or the period exceeds 366 days. err (caller clears). */
h_result h_payment_summary(struct h_app *app, const char *from, const char *to,
                           json_t **summary, struct h_error *err);

/* Appends herald_payments_count / _volume {currency,status}, herald_payments_refunded,
 * _disputed, _fees {currency,kind} and _net {currency} to out: the figures since the first
 * payment, refreshed when older than 60 s (nothing is written while PostgreSQL fails). */
void h_payment_summary_metrics(struct h_app *app, FILE *out);

#endif

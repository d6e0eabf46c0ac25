/* metrics_http.h - the workers' /metrics endpoint: a one-thread HTTP listener on
 * 127.0.0.1 that answers GET /metrics with what a render callback writes (Prometheus text)
 * and 404 to anything else. The API serves /metrics through ulfius instead. */
#ifndef HERALD_METRICS_HTTP_H
#define HERALD_METRICS_HTTP_H

#include <stdio.h>

#include "core/result.h"

struct h_metrics_http;

/* Writes the exposition text for one scrape; ctx is the start call's. */
typedef void (*h_metrics_render_fn)(void *ctx, FILE *out);

/* Listens on 127.0.0.1:port (0 picks a free one, written to *bound) and serves render(ctx)
 * on a thread of its own. ctx is borrowed and must outlive the listener. *out is freed by
 * h_metrics_http_stop. H_ERR_UNAVAILABLE when the port cannot be bound. */
h_result h_metrics_http_start(int port, h_metrics_render_fn render, void *ctx,
                              struct h_metrics_http **out, int *bound);

/* Stops the thread, closes the socket and frees l (NULL is fine). */
void h_metrics_http_stop(struct h_metrics_http *l);

#endif

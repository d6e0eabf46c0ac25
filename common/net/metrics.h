/* metrics.h - Prometheus counters and histograms for HTTP requests.
 *
 * Requests are counted by route pattern (not raw path, to bound cardinality),
 * method and status; latency goes into a fixed-bucket histogram per route. */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stdio.h>

struct h_metrics;

/* Caller frees with h_metrics_destroy. */
struct h_metrics *h_metrics_create(void);
void h_metrics_destroy(struct h_metrics *m);

/* Records one request. route and method are copied on first sight. */
void h_metrics_observe(struct h_metrics *m, const char *route, const char *method,
                       unsigned int status, double seconds);

/* Appends the text exposition format of everything recorded to out. */
void h_metrics_render(struct h_metrics *m, FILE *out);

#endif

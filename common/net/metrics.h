/* metrics.h - Prometheus counters and histograms for HTTP requests.
 *
 * Requests are counted by route pattern (not raw path), method and status; latency goes
 * into a fixed-bucket histogram per series. Every label comes from a closed set and the
 * number of series is capped, so no client input can grow them. */
#ifndef HERALD_METRICS_H
#define HERALD_METRICS_H

#include <stddef.h>
#include <stdio.h>

/* Most series kept; later combinations count in one {route="other"} series. */
#define H_METRICS_MAX_SERIES 1024

struct h_metrics;

/* Caller frees with h_metrics_destroy. */
struct h_metrics *h_metrics_create(void);
void h_metrics_destroy(struct h_metrics *m);

/* Records one request. route (a route pattern or "unmatched"; NULL: "unmatched") is copied
 * on first sight; method is reduced to its label (h_metrics_method_label); a status
 * outside 100-599 is labelled "other". */
void h_metrics_observe(struct h_metrics *m, const char *route, const char *method,
                       unsigned int status, double seconds);

/* The label of an HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or "other".
 * Static string. Pure. */
const char *h_metrics_method_label(const char *method);

/* How many series exist (the overflow one included once used). */
size_t h_metrics_series_count(struct h_metrics *m);

/* Appends the text exposition format of everything recorded to out. */
void h_metrics_render(struct h_metrics *m, FILE *out);

#endif

/* health.h - the probes (/healthz, /readyz), the Prometheus metrics, the OpenAPI document,
 * the /docs reference page and the /demo page. */
#ifndef HERALD_HEALTH_H
#define HERALD_HEALTH_H

#include "http/http.h"

void h_health_get(struct h_req *rq);
void h_ready_get(struct h_req *rq);
void h_metrics_get(struct h_req *rq);
void h_openapi_get(struct h_req *rq);
void h_openapi_yaml_get(struct h_req *rq); /* http/openapi_doc.c */
void h_docs_get(struct h_req *rq);       /* http/docs.c */
void h_docs_asset_get(struct h_req *rq); /* http/docs.c */
void h_demo_get(struct h_req *rq);       /* http/demo.c */
void h_demo_file_get(struct h_req *rq);  /* http/demo.c */

/* Reads the regular file at path (at most max_bytes) into *data (caller frees) and *len:
 * H_OK, H_ERR_NOT_FOUND (missing, not a regular file, unreadable) or H_ERR_TOO_LARGE. */
h_result h_http_read_file(const char *path, long max_bytes, char **data, size_t *len);

#endif

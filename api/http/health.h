/* health.h - the probes (/healthz, /readyz), the Prometheus metrics, the OpenAPI document
 * and the /docs reference page. */
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

#endif

/* openapi_doc.c - the contract at the server's root: GET /openapi.yaml (the source, as
 * written in openapi/openapi.yaml) and GET /openapi.json (the same document as JSON, also at
 * /api/v1/openapi.json). Both are compiled in, so they always describe the running server. */
#include "core/embedded.h"
#include "http/health.h"
#include "http/routes.h"

extern const struct herald_embedded herald_openapi_yaml[];

void h_openapi_yaml_get(struct h_req *rq) {
  ulfius_set_binary_body_response(rq->response, 200, herald_openapi_yaml[0].data,
                                  herald_openapi_yaml[0].len);
  h_reply_header(rq, "Content-Type", "application/yaml; charset=utf-8");
  h_reply_header(rq, "Cache-Control", "public, max-age=300");
  rq->done = true;
}

/* docs.c - the API reference page at /docs (assets installed at build time). */
#include "routes.h"

void h_docs_get(struct h_req *rq) {
  h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "The documentation page is not installed.", NULL);
}

void h_docs_asset_get(struct h_req *rq) {
  h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "No such documentation asset.", NULL);
}

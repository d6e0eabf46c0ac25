/* request.c - reading the body and the pagination parameters of a request. */
#include "http/request.h"

#include <stdlib.h>

#include "crypto/crypto.h"

bool h_require_object(struct h_req *rq) {
  if (json_is_object(rq->body)) {
    return true;
  }
  h_reply_error(rq, H_ERR_INVALID, rq->body == NULL ? "missing_body" : "invalid_body",
                "The request body must be a JSON object.", NULL);
  return false;
}

void h_page_parse(const struct h_req *rq, struct h_page *page, struct h_field_errors *fe) {
  page->limit = 20;
  page->starting_after = NULL;
  const char *limit = h_req_param(rq, "limit");
  if (limit != NULL) {
    char *end = NULL;
    long v = strtol(limit, &end, 10);
    if (limit[0] == '\0' || *end != '\0' || v < 1 || v > 100) {
      h_field_error(fe, "limit", "invalid_limit", "Must be an integer from 1 to 100.");
    } else {
      page->limit = (int)v;
    }
  }
  const char *after = h_req_param(rq, "starting_after");
  if (after != NULL) {
    if (!h_uuid_valid(after)) {
      h_field_error(fe, "starting_after", "invalid_id", "Must be an object id.");
    } else {
      page->starting_after = after;
    }
  }
}

bool h_http_page(struct h_req *rq, struct h_page *page) {
  struct h_field_errors fe = {0};
  h_page_parse(rq, page, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return false;
  }
  return true;
}

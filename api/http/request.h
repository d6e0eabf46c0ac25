/* request.h - reading a request's JSON body and pagination parameters. The field readers
 * and value checks handlers use with them live in core/fields.h. */
#ifndef HERALD_REQUEST_H
#define HERALD_REQUEST_H

#include <stdbool.h>

#include "core/errors.h"
#include "core/fields.h"
#include "core/page.h"
#include "http/http.h"

/* Replies 400 and returns false unless the request has a JSON object body. */
bool h_require_object(struct h_req *rq);

/* Reads ?limit= and ?starting_after=, recording errors. */
void h_page_parse(const struct h_req *rq, struct h_page *page, struct h_field_errors *fe);

/* h_page_parse for a list that takes no other parameter: replies 422 with the field
 * errors and returns false when they are bad. */
bool h_http_page(struct h_req *rq, struct h_page *page);

#endif

/* unsubscribe.h - /api/v1/unsubscribe: the signed one-click unsubscribe link of e-mails
 * (RFC 8058): GET shows a confirmation page, POST turns the category's e-mail off. */
#ifndef HERALD_UNSUBSCRIBE_HANDLERS_H
#define HERALD_UNSUBSCRIBE_HANDLERS_H

#include "http/http.h"

void h_unsubscribe_get(struct h_req *rq);
void h_unsubscribe_post(struct h_req *rq);

#endif

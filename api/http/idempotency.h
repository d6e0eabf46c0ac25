/* idempotency.h - the Idempotency-Key header of creating POSTs (store/idempotency.h
 * holds the records and the rules).
 *
 * Use in a handler, after validating the body:
 *   struct h_idem idem;
 *   if (!h_http_idem_begin(rq, &idem)) return;     // replied (replay, 400, 409, 503)
 *   r = service(..., &idem, ...);                   // calls h_idem_complete in its transaction
 *   if (r != H_OK) h_idem_abort(rq->app->db, &idem); // lets a retry run again */
#ifndef HERALD_HTTP_IDEMPOTENCY_H
#define HERALD_HTTP_IDEMPOTENCY_H

#include <stdbool.h>

#include "core/fields.h"
#include "http/http.h"
#include "store/idempotency.h"

/* Starts an idempotent request. Returns true to go on (idem->active says whether a key is
 * held), false when a reply has been sent. */
bool h_http_idem_begin(struct h_req *rq, struct h_idem *idem);

/* h_http_idem_begin after the body's validation: replies 422 with fe's errors (and
 * returns false) when there are any. */
bool h_http_idem_begin_valid(struct h_req *rq, struct h_field_errors *fe, struct h_idem *idem);

/* h_http_idem_begin_valid for a service that claims the key in the statement of its write
 * (defer: see h_idem.deferred) without a statement of its own here; when the service
 * answers H_ERR_CONFLICT because another request holds the key, h_http_idem_begin tells
 * the client what a claim would have (replay, 400, 409) or claims it for a second try.
 * defer false: h_http_idem_begin_valid. */
bool h_http_idem_defer_valid(struct h_req *rq, struct h_field_errors *fe, struct h_idem *idem,
                             bool defer);

/* The status a successful request of outcome answers with. */
unsigned int h_http_outcome_status(enum h_outcome outcome);

#endif

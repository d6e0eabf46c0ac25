/* reconciliations.h - the admin handlers of reconciliation (routes.c lists them). */
#ifndef HERALD_RECONCILIATIONS_H
#define HERALD_RECONCILIATIONS_H

#include "http/http.h"

void h_reconciliations_post(struct h_req *rq);
void h_reconciliations_get(struct h_req *rq);
void h_reconciliation_get(struct h_req *rq);
void h_payment_sync_post(struct h_req *rq);

#endif

/* reconciliations.h - the admin handlers of reconciliation and of the payment figures
 * (routes.c lists them). */
#ifndef HERALD_RECONCILIATIONS_H
#define HERALD_RECONCILIATIONS_H

#include "http/http.h"

void h_reconciliations_post(struct h_req *rq);
void h_reconciliations_get(struct h_req *rq);
void h_reconciliation_get(struct h_req *rq);
void h_payment_sync_post(struct h_req *rq);
/* api/admin/payment_summary.c */
void h_admin_payment_summary_get(struct h_req *rq);

#endif

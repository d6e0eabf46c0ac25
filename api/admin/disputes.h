/* disputes.h - the admin handlers of disputes (routes.c lists them). */
#ifndef HERALD_ADMIN_DISPUTES_H
#define HERALD_ADMIN_DISPUTES_H

#include "http/http.h"

/* GET /api/v1/admin/disputes */
void h_disputes_get(struct h_req *rq);
/* POST /api/v1/admin/disputes/{id}/evidence */
void h_dispute_evidence_post(struct h_req *rq);

#endif

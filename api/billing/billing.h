/* billing.h - the handlers of plans and subscriptions (routes.c lists them). */
#ifndef HERALD_BILLING_HTTP_H
#define HERALD_BILLING_HTTP_H

#include "http/http.h"

/* POST, GET /api/v1/admin/plans; PATCH /api/v1/admin/plans/{id}; GET /api/v1/plans */
void h_admin_plans_post(struct h_req *rq);
void h_admin_plans_get(struct h_req *rq);
void h_admin_plan_patch(struct h_req *rq);
void h_plans_get(struct h_req *rq);

/* POST, GET /api/v1/subscriptions; GET /api/v1/subscriptions/{id};
 * POST /api/v1/subscriptions/{id}/cancel, /resume, /plan */
void h_subscriptions_post(struct h_req *rq);
void h_subscriptions_get(struct h_req *rq);
void h_subscription_get(struct h_req *rq);
void h_subscription_cancel_post(struct h_req *rq);
void h_subscription_resume_post(struct h_req *rq);
void h_subscription_plan_post(struct h_req *rq);
/* POST /api/v1/admin/subscriptions/{id}/sync */
void h_admin_subscription_sync_post(struct h_req *rq);

#endif

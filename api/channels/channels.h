/* channels.h - webhook endpoints: the caller's own (/api/v1/users/me/webhook-endpoints)
 * and the system-wide ones (/api/v1/admin/webhook-endpoints). */
#ifndef HERALD_API_CHANNELS_H
#define HERALD_API_CHANNELS_H

#include "http/http.h"

void h_me_webhook_endpoints_post(struct h_req *rq);
void h_me_webhook_endpoints_get(struct h_req *rq);
void h_me_webhook_endpoint_delete(struct h_req *rq);
void h_me_webhook_endpoint_rotate_post(struct h_req *rq);
void h_me_webhook_endpoint_enable_post(struct h_req *rq);
void h_admin_webhook_endpoints_post(struct h_req *rq);
void h_admin_webhook_endpoints_get(struct h_req *rq);
void h_admin_webhook_endpoint_delete(struct h_req *rq);
void h_admin_webhook_endpoint_rotate_post(struct h_req *rq);
void h_admin_webhook_endpoint_enable_post(struct h_req *rq);

#endif

/* users.h - the signed-in user's account (/api/v1/users/me), the admin's view of users
 * and API keys (/api/v1/admin/users, /api/v1/admin/api-keys). */
#ifndef HERALD_USERS_H
#define HERALD_USERS_H

#include "http/http.h"

void h_me_get(struct h_req *rq);
void h_me_patch(struct h_req *rq);
void h_me_delete(struct h_req *rq);
void h_me_export_get(struct h_req *rq);
void h_admin_users_get(struct h_req *rq);
void h_admin_user_get(struct h_req *rq);
void h_admin_user_patch(struct h_req *rq);
void h_api_keys_post(struct h_req *rq);
void h_api_keys_get(struct h_req *rq);
void h_api_keys_delete(struct h_req *rq);

#endif

/* auth.h - /api/v1/auth: sign-up, sign-in, token refresh, sign-out, password reset and
 * e-mail verification; and the signed-in user's password change. */
#ifndef HERALD_AUTH_H
#define HERALD_AUTH_H

#include "http/http.h"

void h_auth_register_post(struct h_req *rq);
void h_auth_login_post(struct h_req *rq);
void h_auth_refresh_post(struct h_req *rq);
void h_auth_logout_post(struct h_req *rq);
void h_auth_reset_post(struct h_req *rq);
void h_auth_reset_confirm_post(struct h_req *rq);
void h_auth_verify_email_post(struct h_req *rq);
void h_auth_verify_resend_post(struct h_req *rq);
void h_me_password_post(struct h_req *rq);

#endif

/* security.h - the signed-in user's sessions and two-factor authentication, and the
 * second step of a sign-in with two-factor authentication (/api/v1/auth/mfa/verify). */
#ifndef HERALD_SECURITY_H
#define HERALD_SECURITY_H

#include "http/http.h"

void h_me_sessions_get(struct h_req *rq);
void h_me_session_delete(struct h_req *rq);
void h_me_sessions_delete(struct h_req *rq);
void h_me_mfa_enrol_post(struct h_req *rq);
void h_me_mfa_confirm_post(struct h_req *rq);
void h_me_mfa_disable_post(struct h_req *rq);
void h_auth_mfa_verify_post(struct h_req *rq);

#endif

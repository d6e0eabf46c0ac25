/* mfa_service.h - two-factor authentication with TOTP (RFC 6238): enrolment,
 * confirmation, recovery codes, disabling, and the second step of a sign-in.
 *
 * Every json_t ** is a new reference for the caller. Codes are 6 digits; each works
 * once (the last accepted time step is kept), within one step of clock drift. */
#ifndef HERALD_MFA_SERVICE_H
#define HERALD_MFA_SERVICE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

#define H_MFA_RECOVERY_CODES 10
#define H_MFA_CHALLENGE_ATTEMPTS 5

/* A new pending secret: *out {"object":"totp_enrollment","secret","otpauth_uri"}.
 * H_ERR_CONFLICT when two-factor authentication is already on. */
h_result h_mfa_enrol(struct h_app *app, const struct h_actor *actor, const char *user_id,
                     json_t **out);

/* Turns it on with a code of the pending secret: *out {"object":"recovery_codes","codes"}
 * (shown once). H_ERR_CONFLICT when nothing is pending, H_ERR_UNPROCESSABLE for a wrong
 * code. */
h_result h_mfa_confirm(struct h_app *app, const struct h_actor *actor, const char *user_id,
                       const char *code, json_t **out);

/* Turns it off with a fresh code or an unused recovery code (one of them NULL).
 * H_ERR_CONFLICT when it is off, H_ERR_UNPROCESSABLE for a wrong code. */
h_result h_mfa_disable(struct h_app *app, const struct h_actor *actor, const char *user_id,
                       const char *code, const char *recovery_code);

/* In the sign-in's transaction: a challenge for user_id, *out
 * {"object":"mfa_challenge","mfa_required":true,"challenge","expires_in"}. */
h_result h_mfa_challenge_issue(struct h_app *app, PGconn *conn, const struct h_actor *actor,
                               const char *user_id, json_t **out);

/* Completes a sign-in: challenge plus a code or a recovery code (one of them NULL);
 * *tokens is a token pair whose access tokens say "mfa". H_ERR_NOT_FOUND for an unknown,
 * used or expired challenge (or one with too many wrong codes), H_ERR_UNAUTHORIZED for a
 * wrong code. */
h_result h_mfa_login(struct h_app *app, const struct h_actor *actor, const char *challenge,
                     const char *code, const char *recovery_code, json_t **tokens);

#endif

/* auth_service.h - sign-up, sign-in and credentials: the rules and transactions.
 *
 * Token pairs come back as {"access_token","refresh_token","token_type","expires_in"}
 * and users in their wire shape; every json_t ** is a new reference for the caller. */
#ifndef HERALD_AUTH_SERVICE_H
#define HERALD_AUTH_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"
#include "users/user_repo.h"

/* Registers an account, answering the same whether or not the e-mail is taken (no
 * account enumeration): a new account gets its verification e-mail; the owner of a taken
 * address gets an e-mail saying someone tried. in->password_hash is ignored (password is
 * hashed inside). Signing in is a separate step (h_auth_login). */
h_result h_auth_register(struct h_app *app, const struct h_actor *actor,
                         const struct h_user_input *in, const char *password);

/* H_ERR_UNAUTHORIZED for a wrong e-mail or password (same answer, similar time),
 * H_ERR_RATE_LIMITED while locked (*retry_after seconds), H_ERR_FORBIDDEN when the
 * account is disabled. H_OK: *out is a token pair, or, when the account has two-factor
 * authentication (*mfa_required), a challenge {"object":"mfa_challenge","mfa_required",
 * "challenge","expires_in"} that h_mfa_login completes (users/mfa_service.h). */
h_result h_auth_login(struct h_app *app, const struct h_actor *actor, const char *email,
                      const char *password, json_t **out, bool *mfa_required,
                      int *retry_after);

/* Rotates a refresh token. Reuse of a rotated token revokes its family. */
h_result h_auth_refresh(struct h_app *app, const struct h_actor *actor, const char *refresh_token,
                        json_t **tokens);

/* Revokes the family of refresh_token; unknown tokens are ignored. */
h_result h_auth_logout(struct h_app *app, const struct h_actor *actor, const char *refresh_token);

/* Queues a reset e-mail when the account exists; never says whether it does. */
h_result h_auth_request_reset(struct h_app *app, const struct h_actor *actor, const char *email);

/* H_ERR_NOT_FOUND for an unknown, used or expired token. */
h_result h_auth_confirm_reset(struct h_app *app, const struct h_actor *actor, const char *token,
                              const char *new_password);
h_result h_auth_verify_email(struct h_app *app, const struct h_actor *actor, const char *token);
/* Sends the signed-in actor a new e-mail verification link (the older ones end).
 * H_ERR_CONFLICT when the address is already verified. */
h_result h_auth_resend_verification(struct h_app *app, const struct h_actor *actor);

/* H_ERR_FORBIDDEN when current is wrong. Ends every session of the user: refresh tokens
 * revoked, access tokens refused from now on (token epoch). So does a reset. */
h_result h_auth_change_password(struct h_app *app, const struct h_actor *actor,
                                const char *user_id, const char *current,
                                const char *new_password);

#endif

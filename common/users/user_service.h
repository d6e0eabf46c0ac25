/* user_service.h - accounts after sign-in: profile, deletion, export, admin changes
 * and API keys. json_t ** out-parameters are new references for the caller. */
#ifndef HERALD_USER_SERVICE_H
#define HERALD_USER_SERVICE_H

#include <jansson.h>

#include "app/app.h"
#include "audit/audit.h"
#include "users/user_repo.h"

h_result h_user_get(struct h_app *app, const char *id, json_t **user);
/* The user's profile as the compact JSON text of GET /api/v1/users/me (*body: caller frees),
 * from this process's copy when one is held (users/profile_cache.h). */
h_result h_user_profile(struct h_app *app, const char *id, char **body);
h_result h_user_update_profile(struct h_app *app, const struct h_actor *actor, const char *id,
                               const struct h_profile_patch *patch, json_t **user);
/* Erases personal data, revokes sessions; the audit trail stays. */
h_result h_user_delete(struct h_app *app, const struct h_actor *actor, const char *id);
/* Everything Herald holds about the user, as one JSON document. */
h_result h_user_export(struct h_app *app, const struct h_actor *actor, const char *id,
                       json_t **doc);
h_result h_user_list(struct h_app *app, const char *email_prefix, const char *role,
                     const char *status, const struct h_page *page, json_t **data,
                     bool *has_more);
/* role/status NULL: unchanged. Disabling revokes the user's refresh tokens. */
h_result h_user_admin_update(struct h_app *app, const struct h_actor *actor, const char *id,
                             const char *role, const char *status, json_t **user);

/* A new API key; the returned object carries "secret" once. */
h_result h_api_key_create(struct h_app *app, const struct h_actor *actor, const char *name,
                          json_t **key);
h_result h_api_key_list_all(struct h_app *app, const struct h_page *page, json_t **data,
                            bool *has_more);
h_result h_api_key_remove(struct h_app *app, const struct h_actor *actor, const char *id);

/* What h_user_upsert_admin did. */
enum h_admin_outcome {
  H_ADMIN_CREATED,    /* a new admin account */
  H_ADMIN_RESET,      /* the existing admin's password reset, its sessions revoked */
  H_ADMIN_TAKEN_OVER, /* a user account made admin: password reset, sessions revoked */
};

/* Creates the admin with email and password (borrowed), or resets the password of the
 * admin that already has this e-mail (any case), in one transaction on conn (the
 * caller's own connection: this runs before any pool exists). An existing account that
 * is not an admin may have been registered by anyone: it is refused (H_ERR_CONFLICT)
 * unless take_over, which resets its password and revokes every refresh token it holds
 * before making it the admin. id receives the account's id. */
h_result h_user_upsert_admin(PGconn *conn, const char *email, const char *password,
                             bool take_over, char id[37], enum h_admin_outcome *outcome);

/* API keys look like "hk_<43 url-safe chars>". */
#define H_API_KEY_PREFIX "hk_"

/* The id of the live API key key (borrowed) into id; H_ERR_NOT_FOUND when the key is
 * unknown or revoked. */
h_result h_api_key_verify(struct h_app *app, const char *key, char id[37]);

#endif

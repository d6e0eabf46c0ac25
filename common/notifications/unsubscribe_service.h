/* unsubscribe_service.h - one-click unsubscribe: the e-mail of one category turned off for
 * one user, with its audit row, in one transaction. */
#ifndef HERALD_UNSUBSCRIBE_SERVICE_H
#define HERALD_UNSUBSCRIBE_SERVICE_H

#include "app/app.h"
#include "audit/audit.h"

/* Sets categories.<category>.email = false in the preferences of user_id (other settings
 * kept). H_OK, H_ERR_NOT_FOUND (no live user) or H_ERR_UNAVAILABLE. Everything borrowed. */
h_result h_unsubscribe_email(struct h_app *app, const struct h_actor *actor, const char *user_id,
                             const char *category);

#endif

/* preference_service.h - reading and changing a user's notification preferences. */
#ifndef HERALD_PREFERENCE_SERVICE_H
#define HERALD_PREFERENCE_SERVICE_H

#include <jansson.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notifications/preference_repo.h"

/* The caller's preferences (new reference). */
h_result h_preferences_read(struct h_app *app, const char *user_id, json_t **prefs);

/* Applies in (with an audit row) and returns the result (new reference). */
h_result h_preferences_write(struct h_app *app, const struct h_actor *actor,
                             const struct h_prefs_input *in, json_t **prefs);

#endif

/* preference_repo.h - SQL for notification_preferences. The preferences come back in
 * their wire shape with the defaults filled in; json_t ** out-parameters are new
 * references. */
#ifndef HERALD_PREFERENCE_REPO_H
#define HERALD_PREFERENCE_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"

/* A section left NULL (or quiet_given false) keeps its stored value. */
struct h_prefs_input {
  const json_t *channels;   /* {"email":bool,...}, all four channels (borrowed) */
  const json_t *categories; /* {"<cat>":{"sms":bool}} (borrowed) */
  bool quiet_given;
  bool quiet_enabled;
  const char *quiet_start, *quiet_end, *quiet_timezone; /* NULL clears */
};

/* The preferences of a live user (defaults when never set); H_ERR_NOT_FOUND otherwise. */
h_result h_prefs_repo_get(PGconn *conn, const char *user_id, json_t **prefs);

/* Creates or updates the row of user_id. */
h_result h_prefs_repo_put(PGconn *conn, const char *user_id, const struct h_prefs_input *in);

#endif

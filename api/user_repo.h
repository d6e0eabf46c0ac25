/* user_repo.h - SQL for the users table. */
#ifndef HERALD_USER_REPO_H
#define HERALD_USER_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "result.h"

/* Creates an admin with email, or makes the existing account (any case of email)
 * an active admin with this password hash. id receives the user id; *created is
 * true when the row is new. */
h_result h_user_repo_upsert_admin(PGconn *conn, const char *email, const char *password_hash,
                                  char id[37], bool *created);

#endif

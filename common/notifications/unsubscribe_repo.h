/* unsubscribe_repo.h - SQL of one-click unsubscribe. Every pointer is borrowed. */
#ifndef HERALD_UNSUBSCRIBE_REPO_H
#define HERALD_UNSUBSCRIBE_REPO_H

#include <libpq-fe.h>

#include "core/result.h"

/* Merges {"<category>":{"email":false}} into the category settings of user_id, creating the
 * row when there is none. H_ERR_NOT_FOUND when the user does not exist or is deleted. */
h_result h_unsubscribe_repo_email_off(PGconn *conn, const char *user_id, const char *category);

#endif

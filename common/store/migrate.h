/* migrate.h - applies db/migrations/NNNN_name.sql in order.
 *
 * Each file runs in its own transaction and is recorded in schema_migrations with
 * a checksum; a session advisory lock makes concurrent runs wait for each other,
 * so running twice or from two processes at once is safe. A file that changed
 * after it was applied stops the run. */
#ifndef HERALD_MIGRATE_H
#define HERALD_MIGRATE_H

#include <libpq-fe.h>

#include "core/embedded.h"
#include "core/result.h"

/* Applies the pending files of list (sorted by name, NULL-name terminated).
 * *applied (may be NULL) receives how many were applied now. */
h_result h_migrate(PGconn *conn, const struct herald_embedded *list, int *applied);

/* The migrations compiled into this binary. */
extern const struct herald_embedded herald_migrations[];

#endif

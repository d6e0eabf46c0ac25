/* webhook_endpoint_repo.h - SQL for webhook_endpoints. An owner is a user id, or NULL
 * for the system-wide endpoints. json_t ** out-parameters are new references the caller
 * decrefs. */
#ifndef HERALD_WEBHOOK_ENDPOINT_REPO_H
#define HERALD_WEBHOOK_ENDPOINT_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/page.h"
#include "core/result.h"

struct h_endpoint_row {
  const char *owner;        /* user id, or NULL: system-wide */
  const char *created_by;   /* the user who registered it */
  const char *url, *format, *description; /* description may be NULL */
  const json_t *categories; /* array of strings, or NULL: every category */
  const char *secret;
};

/* Counts owner's endpoints under a transaction-scoped lock on owner's set, so that two
 * registrations cannot both pass the limit. */
h_result h_endpoint_repo_count_locked(PGconn *conn, const char *owner, int *n);

/* Inserts row; *out receives the endpoint object with its "secret". */
h_result h_endpoint_repo_insert(PGconn *conn, const struct h_endpoint_row *row, json_t **out);

h_result h_endpoint_repo_list(PGconn *conn, const char *owner, const struct h_page *page,
                              json_t **data, bool *has_more);

/* H_ERR_NOT_FOUND when owner has no endpoint id. */
h_result h_endpoint_repo_delete(PGconn *conn, const char *id, const char *owner);

/* Makes secret the endpoint's secret; the one it replaces stays valid for grace_s
 * seconds. *out receives the endpoint with its new "secret". */
h_result h_endpoint_repo_rotate(PGconn *conn, const char *id, const char *owner,
                                const char *secret, int grace_s, json_t **out);

/* Enables the endpoint again with its run of failures cleared. */
h_result h_endpoint_repo_enable(PGconn *conn, const char *id, const char *owner, json_t **out);

/* Takes (FOR UPDATE SKIP LOCKED) up to limit endpoints disabled and not yet told to
 * their owner, and marks them told: *rows is an array of {id, url, owner, reason,
 * failures} where owner is the user to tell (the owner, or the admin who registered a
 * system-wide endpoint; may be null). */
h_result h_endpoint_repo_take_disabled(PGconn *conn, int limit, json_t **rows);

#endif

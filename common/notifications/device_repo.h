/* device_repo.h - SQL for devices (push targets). Devices come back in their wire shape
 * ({"id","object":"device",...}); json_t ** out-parameters are new references. */
#ifndef HERALD_DEVICE_REPO_H
#define HERALD_DEVICE_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

/* Registers token for user_id: a new row (*created), or the existing one moved to
 * user_id and refreshed. previous_user (37 bytes) receives the former owner, "" if none. */
h_result h_device_repo_upsert(PGconn *conn, const char *user_id, const char *token,
                              const char *platform, const char *app_version, json_t **device,
                              bool *created, char previous_user[37]);
h_result h_device_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                            json_t **data, bool *has_more);
/* H_ERR_NOT_FOUND unless id is a device of user_id. */
h_result h_device_repo_delete(PGconn *conn, const char *id, const char *user_id);

#endif

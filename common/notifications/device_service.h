/* device_service.h - the caller's push devices. json_t ** out-parameters are new
 * references for the caller. */
#ifndef HERALD_DEVICE_SERVICE_H
#define HERALD_DEVICE_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notifications/device_repo.h"
#include "store/idempotency.h"

struct h_device_input {
  const char *token, *platform, *app_version;
};

/* Registers a device for the actor (moving it from another user if needed) with its
 * audit row and idempotency record (idem may be NULL); *created tells 201 from 200. */
h_result h_device_register(struct h_app *app, const struct h_actor *actor,
                           const struct h_device_input *in, const struct h_idem *idem,
                           json_t **device, bool *created);
h_result h_device_list(struct h_app *app, const char *user_id, const struct h_page *page,
                       json_t **data, bool *has_more);
h_result h_device_remove(struct h_app *app, const struct h_actor *actor, const char *id);

#endif

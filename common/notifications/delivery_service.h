/* delivery_service.h - the operators' view of queues and deliveries. json_t **
 * out-parameters are new references for the caller. */
#ifndef HERALD_DELIVERY_SERVICE_H
#define HERALD_DELIVERY_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notifications/delivery_repo.h"

/* {"object":"list","data":[{"object":"queue","name","ready","processing","delayed","dead",
 * "workers"}],"has_more":false}. H_ERR_UNAVAILABLE when Redis is down. */
h_result h_queue_overview(struct h_app *app, json_t **list);

h_result h_delivery_list(struct h_app *app, const struct h_delivery_filter *f,
                         const struct h_page *page, json_t **data, bool *has_more);
h_result h_delivery_stats(struct h_app *app, const char *since, json_t **stats);

/* A dead or failed delivery back to queued (audit row), then pushed and removed from the
 * dead-letter list. H_ERR_CONFLICT for any other status. */
h_result h_delivery_retry(struct h_app *app, const struct h_actor *actor, const char *id,
                          json_t **delivery);

#endif

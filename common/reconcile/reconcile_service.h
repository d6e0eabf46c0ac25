/* reconcile_service.h - the admin API of reconciliation: runs (requested, listed,
 * read with their items) and "sync this payment now". The run row is created
 * queued and its reconcile_jobs row pushed onto herald:q:{reconcile} after COMMIT;
 * herald-reconcile runs it. */
#ifndef HERALD_RECONCILE_SERVICE_H
#define HERALD_RECONCILE_SERVICE_H

#include <jansson.h>
#include <time.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/fields.h"
#include "core/page.h"

/* A queued run of [since, until) and its job. run is the run (new reference). */
h_result h_reconcile_request_run(struct h_app *app, const struct h_actor *actor, time_t since,
                                 time_t until, json_t **run);
h_result h_reconcile_list(struct h_app *app, const struct h_page *page, json_t **data,
                          bool *has_more);
/* The run with its period's items (kind NULL: all). H_ERR_NOT_FOUND when unknown. */
h_result h_reconcile_get(struct h_app *app, const char *id, const char *kind, json_t **out);
/* Queues a sync of the payment now; job receives {"object":"reconcile_job",...}.
 * H_ERR_NOT_FOUND for an unknown payment. */
h_result h_reconcile_queue_payment_sync(struct h_app *app, const struct h_actor *actor,
                                        const char *payment_id, json_t **job);

#endif

/* delivery_repo.h - SQL for the operators' view of deliveries. Deliveries come back in
 * their wire shape ({"id","object":"delivery",...}); json_t ** out-parameters are new
 * references. */
#ifndef HERALD_DELIVERY_REPO_H
#define HERALD_DELIVERY_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_delivery_filter {
  const char *status, *channel, *user_id, *notification_id; /* NULL: any */
  const char *created_gte, *created_lte;                      /* RFC 3339 or NULL */
};

h_result h_delivery_repo_list(PGconn *conn, const struct h_delivery_filter *f,
                              const struct h_page *page, json_t **data, bool *has_more);

/* Counts by channel and status of the deliveries created since (RFC 3339):
 * {"object":"delivery_stats","since","total","by_status":{},"by_channel":{ch:{status:n}}}. */
h_result h_delivery_repo_stats(PGconn *conn, const char *since, json_t **stats);

/* Puts a dead or failed delivery back to queued (attempts reset). H_ERR_NOT_FOUND when
 * there is none, H_ERR_CONFLICT when its status is another. */
h_result h_delivery_repo_requeue(PGconn *conn, const char *id, json_t **delivery);

#endif

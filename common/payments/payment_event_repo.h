/* payment_event_repo.h - SQL for received webhook events (payment_events). */
#ifndef HERALD_PAYMENT_EVENT_REPO_H
#define HERALD_PAYMENT_EVENT_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"

/* Stores the event unless its id is known, then locks its row: concurrent
 * deliveries of one event run one after the other. *processed says whether an
 * earlier delivery already applied it (then the caller does nothing). created is
 * the provider's unix time (0: unknown); payload is the raw JSON text. */
h_result h_payment_event_claim(PGconn *conn, const char *id, const char *type,
                               const char *object_id, long long created, const char *payload,
                               bool *processed);

/* Marks the event applied with an outcome word ("applied", "ignored", ...). */
h_result h_payment_event_finish(PGconn *conn, const char *id, const char *outcome);

#endif

/* stream_service.h - opening a notification stream: who may, and where it starts. */
#ifndef HERALD_STREAM_SERVICE_H
#define HERALD_STREAM_SERVICE_H

#include "app/app.h"
#include "core/result.h"
#include "inbox/stream_hub.h"

/* Opens a stream for grant g (borrowed) on conn (see h_stream_hub_open): checks that the
 * grant's token epoch is still the account's (H_ERR_UNAUTHORIZED otherwise) and reads where the
 * user's feed stands: a last_event_id beyond it (never handed out by this feed) starts the
 * stream afresh with stream.reset. *out as h_stream_hub_open.
 * H_ERR_UNAVAILABLE when the hub is full or closing or PostgreSQL is down. */
h_result h_stream_connect(struct h_app *app, struct h_stream_hub *hub,
                          const struct h_stream_grant *g, long long last_event_id,
                          const struct h_stream_conn_ops *ops, void *conn,
                          struct h_stream **out);

#endif

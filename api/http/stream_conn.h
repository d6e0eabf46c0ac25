/* stream_conn.h - libmicrohttpd's side of the notification stream.
 *
 * ulfius does not hand a callback its MHD connection, which suspending needs. The server's
 * connection notification (MHD_OPTION_NOTIFY_CONNECTION) records every connection under its
 * peer address (IPv4 address and port, the same one ulfius copies into
 * request->client_address), and h_stream_conn_find looks it up. A stream's content reader
 * suspends its connection on an empty queue (allowed from a content reader callback; the
 * daemon runs with MHD_ALLOW_SUSPEND_RESUME and MHD_USE_ITC) and the hub resumes it. */
#ifndef HERALD_STREAM_CONN_H
#define HERALD_STREAM_CONN_H

#include <stdbool.h>
#include <ulfius.h>

#include "inbox/stream_hub.h"

/* The connection notification's bookkeeping: started or closed. */
void h_stream_conn_started(struct MHD_Connection *c);
void h_stream_conn_closed(struct MHD_Connection *c);

/* The open connection whose peer is addr, or NULL. */
struct MHD_Connection *h_stream_conn_find(const struct sockaddr *addr);

/* Suspend and resume as the hub calls them (conn: a struct MHD_Connection). */
extern const struct h_stream_conn_ops h_stream_conn_ops;

/* Makes st (handed over: released when the connection lets go of the response) the body of
 * response: text/event-stream, chunked, read through h_stream_read. false when ulfius refused
 * (st is then released). */
bool h_stream_conn_respond(struct _u_response *response, struct h_stream *st);

#endif

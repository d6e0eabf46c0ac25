/* server.h - the HTTP server: ulfius on libmicrohttpd's epoll thread pool. */
#ifndef HERALD_SERVER_H
#define HERALD_SERVER_H

#include "app/app.h"
#include "core/result.h"

struct h_server;

/* Starts listening with app's configuration; app is borrowed and must outlive the
 * server. *out is freed by h_server_stop. H_ERR_UNAVAILABLE when the port cannot be
 * bound. */
h_result h_server_start(struct h_app *app, struct h_server **out);

/* The port actually bound (useful with HERALD_HTTP_PORT=0). */
unsigned int h_server_port(const struct h_server *server);

/* The probe port actually bound (HERALD_PROBE_PORT), 0 when probes share the main port. */
unsigned int h_server_probe_port(const struct h_server *server);

/* Stops accepting, waits up to the shutdown timeout for in-flight requests, stops. */
void h_server_stop(struct h_server *server);

/* Blocks until SIGINT or SIGTERM; returns the signal. The signals must have been
 * blocked with h_server_block_signals() before any thread started. */
int h_server_wait_for_signal(void);
void h_server_block_signals(void);

#endif

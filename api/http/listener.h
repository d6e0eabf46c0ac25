/* listener.h - the API's listening socket, owned by Herald rather than libmicrohttpd: one
 * thread accepts and hands each connection to the daemon's thread pool. */
#ifndef HERALD_LISTENER_H
#define HERALD_LISTENER_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>

#include "core/result.h"

struct h_listener;

/* Binds and listens on addr (port 0: a free one) with the given backlog. *out is freed by
 * h_listener_close. H_ERR_UNAVAILABLE when the address cannot be bound. */
h_result h_listener_open(const struct sockaddr_in *addr, int backlog, struct h_listener **out);

/* The port bound. */
unsigned int h_listener_port(const struct h_listener *l);

/* Starts the accepting thread: each connection goes to daemon (started with
 * MHD_USE_NO_LISTEN_SOCKET and MHD_USE_ITC). While *connections >= max_connections it waits
 * and the kernel's backlog holds newcomers. connections is borrowed and must outlive l. */
h_result h_listener_start(struct h_listener *l, struct MHD_Daemon *daemon,
                          const atomic_int *connections, int max_connections);

/* Stops accepting without resetting anyone: ends the thread, hands what the backlog holds
 * to the daemon, then closes the socket and frees l. Returns how many connections l handed
 * to the daemon in all (a drain waits until the daemon has started that many). NULL: 0. */
unsigned long h_listener_close(struct h_listener *l);

/* Hands the connections waiting in listening socket fd's backlog to daemon until none is
 * left; returns how many were taken. fd is made non-blocking; the caller closes it. */
int h_listener_adopt_backlog(int fd, struct MHD_Daemon *daemon);

#endif

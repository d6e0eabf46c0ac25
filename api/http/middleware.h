/* middleware.h - the ulfius callbacks that wrap every request (see routes.h). */
#ifndef HERALD_MIDDLEWARE_H
#define HERALD_MIDDLEWARE_H

#include <ulfius.h>

/* The whole request in one ulfius callback (user_data: struct h_app *): request id,
 * CORS, body checks, the route of routes.c (h_route_find), authentication, the
 * handler, 404/405, security headers, metrics and the access log. */
int h_mw_dispatch(const struct _u_request *request, struct _u_response *response,
                  void *user_data);
/* The largest body the probe listener reads (its routes take none). */
#define H_PROBE_MAX_BODY 1024

/* The same for the probe listener: only /healthz, /readyz and /metrics, bodies of at most
 * H_PROBE_MAX_BODY bytes. */
int h_mw_dispatch_probes(const struct _u_request *request, struct _u_response *response,
                         void *user_data);

/* libmicrohttpd's notice that a request ended (MHD_OPTION_NOTIFY_COMPLETED, in place of
 * ulfius's mhd_request_completed, which it then calls): a parked request whose connection
 * closed before its second pass (http/park.h) is finished there, its reply discarded. */
void h_mw_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                            enum MHD_RequestTerminationCode toe);

/* True when origin is allowed by a comma-separated list ("*" allows all). Pure. */
int h_cors_origin_allowed(const char *allowed, const char *origin);

#endif

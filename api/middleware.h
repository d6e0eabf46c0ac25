/* middleware.h - the ulfius callbacks that wrap every request (see routes.h). */
#ifndef HERALD_MIDDLEWARE_H
#define HERALD_MIDDLEWARE_H

#include <ulfius.h>

/* user_data: struct h_app *. */
int h_mw_pre(const struct _u_request *request, struct _u_response *response, void *user_data);
/* user_data: const struct h_route *. */
int h_mw_resource(const struct _u_request *request, struct _u_response *response,
                  void *user_data);
/* user_data: struct h_app *. */
int h_mw_post(const struct _u_request *request, struct _u_response *response, void *user_data);

/* True when origin is allowed by a comma-separated list ("*" allows all). Pure. */
int h_cors_origin_allowed(const char *allowed, const char *origin);

#endif

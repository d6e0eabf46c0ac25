/* routes.h - the route table and its dispatch.
 *
 * ulfius sees one "*" endpoint (h_mw_dispatch); every request runs, in this order:
 *   pre       request id, CORS preflight, body limits, JSON parsing
 *   resource  the route h_route_find picks, after the route's auth requirement
 *   post      JSON 404/405, security headers, metrics, access log
 * A step that decides the response marks the request done; later steps skip. */
#ifndef HERALD_ROUTES_H
#define HERALD_ROUTES_H

#include <stdbool.h>
#include <ulfius.h>

#include "http/http.h"

/* Who may call a route: anyone; a signed-in user (or admin); an admin; an admin or
 * an API key (service-to-service). */
enum h_auth { H_AUTH_NONE, H_AUTH_USER, H_AUTH_ADMIN, H_AUTH_SERVICE };

typedef void (*h_handler)(struct h_req *rq);

struct h_route {
  const char *method;   /* "GET" */
  const char *path;     /* ulfius format, "/api/v1/admin/users/:id" */
  h_handler handler;
  enum h_auth auth;
  /* H_WAITS: the handler waits on a payment provider's API or a password hash, so it runs
   * on the offload pool (http/offload.h), not on its HTTP thread */
  bool waits;
};

#define H_WAITS true

/* All routes of the API, terminated by a row whose method is NULL. Static. */
const struct h_route *h_routes(void);

/* True when path matches pattern (":name" segments match any one non-empty segment,
 * a trailing slash is ignored). Pure. */
bool h_route_path_match(const char *pattern, const char *path);

/* How many literal segments pattern has when it matches path (-1 when it
 * does not). Pure. */
int h_route_specificity(const char *pattern, const char *path);

/* The route answering method on path: among the most specific patterns matching path
 * (any method), the one for method; NULL when none (then h_route_allowed_methods tells
 * a 405 from a 404). probes_only: only /healthz, /readyz and /metrics. Pure. */
const struct h_route *h_route_find(const char *method, const char *path, bool probes_only);

/* Puts the ":name" segments of route's pattern, as found in path, into map (name ->
 * value): what handlers read with h_req_param. path must match route (h_route_find). */
void h_route_bind(const struct h_route *route, const char *path, struct _u_map *map);

/* True when the route for method and path reads its own (non-JSON) body, so the
 * middleware must not parse it as JSON. */
bool h_route_raw_body(const char *method, const char *path);

/* Writes into allow (e.g. "GET, POST") the methods of the most specific routes matching
 * path; returns how many. */
int h_route_allowed_methods(const char *path, char *allow, size_t allowlen);

/* Registers the dispatcher (h_mw_dispatch) for every route on instance; app is passed to it. */
int h_routes_register(struct _u_instance *instance, struct h_app *app);

/* Registers the dispatcher for the probe routes only (/healthz, /readyz, /metrics). */
int h_routes_register_probes(struct _u_instance *instance, struct h_app *app);

#endif

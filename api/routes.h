/* routes.h - the route table and the callback priorities.
 *
 * Every request runs, in this order (ulfius priorities):
 *   H_PRIO_PRE       "*": request id, CORS preflight, body limits, JSON parsing
 *   H_PRIO_RESOURCE  the route's handler, after the route's auth requirement
 *   H_PRIO_POST      "*": JSON 404/405, security headers, metrics, access log
 * A step that decides the response marks the request done; later steps skip. */
#ifndef HERALD_ROUTES_H
#define HERALD_ROUTES_H

#include <stdbool.h>
#include <ulfius.h>

#include "http.h"

enum { H_PRIO_PRE = 0, H_PRIO_RESOURCE = 10, H_PRIO_POST = 100 };

/* Who may call a route: anyone; a signed-in user (or admin); an admin; an admin or
 * an API key (service-to-service). */
enum h_auth { H_AUTH_NONE, H_AUTH_USER, H_AUTH_ADMIN, H_AUTH_SERVICE };

typedef void (*h_handler)(struct h_req *rq);

struct h_route {
  const char *method;   /* "GET" */
  const char *path;     /* ulfius format, "/api/v1/admin/users/:id" */
  h_handler handler;
  enum h_auth auth;
};

/* All routes of the API, terminated by a row whose method is NULL. Static. */
const struct h_route *h_routes(void);

/* True when path matches pattern (":name" segments match any one non-empty segment,
 * a trailing slash is ignored). Pure. */
bool h_route_path_match(const char *pattern, const char *path);

/* notifications: how many literal segments pattern has when it matches path (-1 when it
 * does not). Pure. */
int h_route_specificity(const char *pattern, const char *path);

/* True when route is among the most specific routes matching path (any method): the
 * others leave the request to it (a 405 if its method differs). */
bool h_route_owns(const struct h_route *route, const char *path);
/* end notifications */

/* True when the route for method and path reads its own (non-JSON) body, so the
 * middleware must not parse it as JSON. */
bool h_route_raw_body(const char *method, const char *path);

/* Writes into allow (e.g. "GET, POST") the methods of the most specific routes matching
 * path; returns how many. */
int h_route_allowed_methods(const char *path, char *allow, size_t allowlen);

/* Registers every route and the pre/post steps on instance; app is passed to them. */
int h_routes_register(struct _u_instance *instance, struct h_app *app);

/* Registers only the probe routes (/healthz, /readyz, /metrics) and the pre/post steps. */
int h_routes_register_probes(struct _u_instance *instance, struct h_app *app);

/* The handlers of each resource module. */
void h_health_get(struct h_req *rq);
void h_ready_get(struct h_req *rq);
void h_metrics_get(struct h_req *rq);
void h_openapi_get(struct h_req *rq);
/* api/auth.c */
void h_auth_register_post(struct h_req *rq);
void h_auth_login_post(struct h_req *rq);
void h_auth_refresh_post(struct h_req *rq);
void h_auth_logout_post(struct h_req *rq);
void h_auth_reset_post(struct h_req *rq);
void h_auth_reset_confirm_post(struct h_req *rq);
void h_auth_verify_email_post(struct h_req *rq);
void h_me_password_post(struct h_req *rq);
/* api/users.c */
void h_me_get(struct h_req *rq);
void h_me_patch(struct h_req *rq);
void h_me_delete(struct h_req *rq);
void h_me_export_get(struct h_req *rq);
void h_admin_users_get(struct h_req *rq);
void h_admin_user_get(struct h_req *rq);
void h_admin_user_patch(struct h_req *rq);
void h_api_keys_post(struct h_req *rq);
void h_api_keys_get(struct h_req *rq);
void h_api_key_delete_handler(struct h_req *rq);
void h_docs_get(struct h_req *rq);       /* api/docs.c */
void h_docs_asset_get(struct h_req *rq); /* api/docs.c */

/* workers: api/webhooks_sms.c */
void h_webhook_sms_status_post(struct h_req *rq);
/* end workers */

#endif

/* routes.c - the route table and its registration on ulfius. */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "audit.h"
#include "middleware.h"

static const struct h_route routes[] = {
  {"GET", "/healthz", h_health_get, H_AUTH_NONE},
  {"GET", "/readyz", h_ready_get, H_AUTH_NONE},
  {"GET", "/metrics", h_metrics_get, H_AUTH_NONE},
  {"GET", "/api/v1/openapi.json", h_openapi_get, H_AUTH_NONE},
  {"POST", "/api/v1/auth/register", h_auth_register_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/login", h_auth_login_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/refresh", h_auth_refresh_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/logout", h_auth_logout_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/password-reset", h_auth_reset_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/password-reset/confirm", h_auth_reset_confirm_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/verify-email", h_auth_verify_email_post, H_AUTH_NONE},
  {"GET", "/api/v1/users/me", h_me_get, H_AUTH_USER},
  {"PATCH", "/api/v1/users/me", h_me_patch, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me", h_me_delete, H_AUTH_USER},
  {"POST", "/api/v1/users/me/password", h_me_password_post, H_AUTH_USER},
  {"GET", "/api/v1/users/me/export", h_me_export_get, H_AUTH_USER},
  {"GET", "/api/v1/admin/users", h_admin_users_get, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/users/:id", h_admin_user_get, H_AUTH_ADMIN},
  {"PATCH", "/api/v1/admin/users/:id", h_admin_user_patch, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/api-keys", h_api_keys_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/api-keys", h_api_keys_get, H_AUTH_ADMIN},
  {"DELETE", "/api/v1/admin/api-keys/:id", h_api_key_delete_handler, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/audit-log", h_audit_list, H_AUTH_ADMIN},
  {"GET", "/docs", h_docs_get, H_AUTH_NONE},
  {"GET", "/docs/:file", h_docs_asset_get, H_AUTH_NONE},
  {NULL, NULL, NULL, H_AUTH_NONE},
};

const struct h_route *h_routes(void) { return routes; }

/* Length of the segment starting at s (up to '/' or end). */
static size_t seglen(const char *s) { return strcspn(s, "/"); }

bool h_route_path_match(const char *pattern, const char *path) {
  const char *p = pattern, *u = path;
  for (;;) {
    while (*p == '/') {
      p++;
    }
    while (*u == '/') {
      u++;
    }
    if (*p == '\0' || *u == '\0') {
      return *p == '\0' && *u == '\0';
    }
    size_t pl = seglen(p), ul = seglen(u);
    if (*p != ':' && (pl != ul || strncmp(p, u, pl) != 0)) {
      return false;
    }
    p += pl;
    u += ul;
  }
}

int h_route_allowed_methods(const char *path, char *allow, size_t allowlen) {
  int n = 0;
  allow[0] = '\0';
  for (const struct h_route *r = routes; r->method != NULL; r++) {
    if (h_route_path_match(r->path, path) && strstr(allow, r->method) == NULL) {
      size_t used = strlen(allow);
      snprintf(allow + used, allowlen - used, "%s%s", n > 0 ? ", " : "", r->method);
      n++;
    }
  }
  return n;
}

int h_routes_register(struct _u_instance *instance, struct h_app *app) {
  int ret = ulfius_add_endpoint_by_val(instance, "*", NULL, "*", H_PRIO_PRE, h_mw_pre, app);
  ret |= ulfius_add_endpoint_by_val(instance, "*", NULL, "*", H_PRIO_POST, h_mw_post, app);
  for (const struct h_route *r = routes; r->method != NULL; r++) {
    ret |= ulfius_add_endpoint_by_val(instance, r->method, NULL, r->path, H_PRIO_RESOURCE,
                                      h_mw_resource, (void *)r);
  }
  return ret == U_OK ? U_OK : U_ERROR;
}

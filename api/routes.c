/* routes.c - the route table and its registration on ulfius. */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "middleware.h"

static const struct h_route routes[] = {
  {"GET", "/healthz", h_health_get, H_AUTH_NONE},
  {"GET", "/readyz", h_ready_get, H_AUTH_NONE},
  {"GET", "/metrics", h_metrics_get, H_AUTH_NONE},
  {"GET", "/api/v1/openapi.json", h_openapi_get, H_AUTH_NONE},
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

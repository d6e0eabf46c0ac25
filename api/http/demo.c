/* demo.c - the demo page at /demo: static files read from HERALD_DEMO_DIR (scripts/run.sh
 * fills var/demo with the <herald-inbox> page and its bundle). Without HERALD_DEMO_DIR both
 * routes are 404s. GET /demo serves index.html; GET /demo/{file} one file of that folder whose
 * name is a single segment of [A-Za-z0-9_.-] that does not start with a dot and ends with a
 * known extension, so no request can name a path outside the folder. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "http/health.h"
#include "http/routes.h"

#define DEMO_MAX_FILE_BYTES (4L * 1024 * 1024)
#define DEMO_MAX_NAME 100

/* The page loads its module and data from this origin only; the component's shadow DOM
 * carries its own <style> element. */
static const char demo_csp[] =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct demo_type {
  const char *ext;
  const char *content_type;
};

static const struct demo_type demo_types[] = {
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".json", "application/json"},
  {".css", "text/css; charset=utf-8"},
  {".svg", "image/svg+xml"},
  {".png", "image/png"},
};

/* The content type for a file name that may be served, or NULL. Pure. */
static const char *demo_type_of(const char *name) {
  size_t n = name != NULL ? strlen(name) : 0;
  if (n == 0 || n > DEMO_MAX_NAME || name[0] == '.' || strspn(name,
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n) {
    return NULL;
  }
  for (size_t i = 0; i < sizeof(demo_types) / sizeof(demo_types[0]); i++) {
    size_t e = strlen(demo_types[i].ext);
    if (n > e && strcmp(name + n - e, demo_types[i].ext) == 0) {
      return demo_types[i].content_type;
    }
  }
  return NULL;
}

/* Answers with <HERALD_DEMO_DIR>/name, or a JSON 404. */
static void demo_serve(struct h_req *rq, const char *name) {
  const char *dir = rq->app->cfg->demo_dir;
  const char *type = demo_type_of(name);
  char path[PATH_MAX];
  char *data = NULL;
  size_t len = 0;
  if (dir == NULL || dir[0] == '\0') {
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "The demo page is off (see HERALD_DEMO_DIR).", NULL);
    return;
  }
  int n = type != NULL ? snprintf(path, sizeof(path), "%s/%s", dir, name) : -1;
  if (n < 0 || (size_t)n >= sizeof(path) ||
      h_http_read_file(path, DEMO_MAX_FILE_BYTES, &data, &len) != H_OK) {
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "No such file in the demo page.", NULL);
    return;
  }
  ulfius_set_binary_body_response(rq->response, 200, data, len);
  free(data);
  h_reply_header(rq, "Content-Type", type);
  h_reply_header(rq, "Cache-Control", "no-store");
  h_reply_header(rq, "Content-Security-Policy", demo_csp);
  rq->done = true;
}

void h_demo_get(struct h_req *rq) { demo_serve(rq, "index.html"); }

void h_demo_file_get(struct h_req *rq) { demo_serve(rq, h_req_param(rq, "file")); }

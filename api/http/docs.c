/* docs.c - the API reference page at /docs and its static assets.
 *
 * GET /docs serves a small HTML page compiled in below; it loads the Redoc bundle from
 * /docs/redoc.standalone.js and the contract from /api/v1/openapi.json, nothing from
 * elsewhere (the Content-Security-Policy says so). GET /docs/{file} serves a file from an
 * allow-list, read from HERALD_DOCS_DIR or, when that is empty, from the "docs" folder next
 * to the executable (the build copies the bundle to build/bin/docs/). No path is ever built
 * from the request: the name must equal an allow-listed one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/health.h"
#include "http/routes.h"

/* The Redoc bundle is about 1 MiB; anything far larger is not what we installed. */
#define DOCS_MAX_ASSET_BYTES (16L * 1024 * 1024)
#define DOCS_BUNDLE "redoc.standalone.js"

static const char docs_page[] =
  "<!DOCTYPE html>\n"
  "<html lang=\"en\">\n"
  "<head>\n"
  "<meta charset=\"utf-8\">\n"
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
  "<title>Herald API reference</title>\n"
  "<link rel=\"icon\" href=\"data:,\">\n"
  "<style>body{margin:0;padding:0}</style>\n"
  "</head>\n"
  "<body>\n"
  "<noscript>This page needs JavaScript. The contract itself is at "
  "<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</noscript>\n"
  "<redoc spec-url=\"/api/v1/openapi.json\" required-props-first=\"true\" "
  "expand-responses=\"200,201\"></redoc>\n"
  "<script src=\"/docs/" DOCS_BUNDLE "\"></script>\n"
  "</body>\n"
  "</html>\n";

/* Redoc needs inline styles (styled-components) and a blob: worker (search); everything else
 * comes from this origin. */
static const char docs_csp[] =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct docs_asset {
  const char *name;
  const char *content_type;
};

static const struct docs_asset docs_assets[] = {
  {DOCS_BUNDLE, "application/javascript; charset=utf-8"},
  {DOCS_BUNDLE ".LICENSE.txt", "text/plain; charset=utf-8"},
};

/* The allow-listed asset named name, or NULL. Pure. */
static const struct docs_asset *docs_find_asset(const char *name) {
  if (name == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < sizeof(docs_assets) / sizeof(docs_assets[0]); i++) {
    if (strcmp(docs_assets[i].name, name) == 0) {
      return &docs_assets[i];
    }
  }
  return NULL;
}

/* Writes "<docs dir>/<name>" into out; false when it does not fit or the executable's
 * folder cannot be found. */
static bool docs_file_path(const struct h_config *cfg, const char *name, char *out,
                           size_t outlen) {
  int n;
  if (cfg->docs_dir != NULL && cfg->docs_dir[0] != '\0') {
    n = snprintf(out, outlen, "%s/%s", cfg->docs_dir, name);
  } else {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) {
      return false;
    }
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) {
      return false;
    }
    *slash = '\0';
    n = snprintf(out, outlen, "%s/docs/%s", exe, name);
  }
  return n > 0 && (size_t)n < outlen;
}

h_result h_http_read_file(const char *path, long max_bytes, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  h_result r = H_ERR_NOT_FOUND;
  char *buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) {
      h_log_warning("static file: cannot open %s: %s", path, strerror(errno));
    }
    return H_ERR_NOT_FOUND;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    goto out;
  }
  if (st.st_size > max_bytes) {
    h_log_warning("static file: %s is larger than %ld bytes", path, max_bytes);
    r = H_ERR_TOO_LARGE;
    goto out;
  }
  size_t want = (size_t)st.st_size, got = 0;
  buf = h_malloc(want + 1);
  while (got < want) {
    ssize_t n = read(fd, buf + got, want - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      h_log_warning("static file: cannot read %s: %s", path, n < 0 ? strerror(errno) : "short file");
      goto out;
    }
    got += (size_t)n;
  }
  *data = buf;
  *len = got;
  buf = NULL;
  r = H_OK;
out:
  free(buf);
  close(fd);
  return r;
}

/* True when the Redoc bundle is installed where docs_file_path looks. */
static bool docs_installed(const struct h_config *cfg, char *path, size_t pathlen) {
  struct stat st;
  return docs_file_path(cfg, DOCS_BUNDLE, path, pathlen) && stat(path, &st) == 0 &&
         S_ISREG(st.st_mode);
}

void h_docs_get(struct h_req *rq) {
  char path[PATH_MAX + 64] = "";
  if (!docs_installed(rq->app->cfg, path, sizeof(path))) {
    h_log(H_LOG_WARNING, NULL, rq->request_id,
          "docs: the Redoc bundle is not installed (looked for %s; set HERALD_DOCS_DIR)", path);
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL,
                  "The documentation page is not installed (see HERALD_DOCS_DIR).", NULL);
    return;
  }
  ulfius_set_binary_body_response(rq->response, 200, docs_page, sizeof(docs_page) - 1);
  h_reply_header(rq, "Content-Type", "text/html; charset=utf-8");
  h_reply_header(rq, "Content-Security-Policy", docs_csp);
  rq->done = true;
}

void h_docs_asset_get(struct h_req *rq) {
  const struct docs_asset *asset = docs_find_asset(h_req_param(rq, "file"));
  char path[PATH_MAX + 64] = "";
  char *data = NULL;
  size_t len = 0;
  if (asset == NULL) {
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "No such documentation asset.", NULL);
    return;
  }
  if (!docs_file_path(rq->app->cfg, asset->name, path, sizeof(path)) ||
      h_http_read_file(path, DOCS_MAX_ASSET_BYTES, &data, &len) != H_OK) {
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL,
                  "This documentation asset is not installed (see HERALD_DOCS_DIR).", NULL);
    return;
  }
  ulfius_set_binary_body_response(rq->response, 200, data, len);
  free(data);
  h_reply_header(rq, "Content-Type", asset->content_type);
  h_reply_header(rq, "Cache-Control", "public, max-age=3600");
  rq->done = true;
}

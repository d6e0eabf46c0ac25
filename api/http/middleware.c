/* middleware.c - request id, CORS, body limits, JSON parsing, 404/405, security
 * headers, metrics and the access log. */
#include "http/middleware.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "http/authn.h"
#include "http/offload.h"
#include "http/park.h"
#include "crypto/crypto.h"
#include "net/forwarded.h"
#include "core/log.h"
#include "http/ratelimit.h"
#include "http/routes.h"

static void free_req(void *p) {
  struct h_req *rq = p;
  if (rq != NULL) {
    json_decref(rq->body);
    free(rq);
  }
}

/* The response keeps rq (freed with it). */
static void attach(struct h_req *rq, struct _u_response *response) {
  response->shared_data = rq;
  response->free_shared_data = free_req;
}

int h_cors_origin_allowed(const char *allowed, const char *origin) {
  if (allowed == NULL || origin == NULL || allowed[0] == '\0' || origin[0] == '\0') {
    return 0;
  }
  size_t olen = strlen(origin);
  const char *p = allowed;
  while (*p != '\0') {
    while (*p == ' ' || *p == ',') {
      p++;
    }
    size_t n = strcspn(p, ", ");
    if (n == 0) {
      break;
    }
    if ((n == 1 && *p == '*') || (n == olen && strncmp(p, origin, n) == 0)) {
      return 1;
    }
    p += n;
  }
  return 0;
}

static void client_ip(const struct _u_request *request, char *out, size_t outlen) {
  out[0] = '\0';
  const struct sockaddr *sa = request->client_address;
  if (sa != NULL && sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
              (socklen_t)outlen);
  }
}

/* CORS preflight: answers OPTIONS with the allowed methods and headers. */
static void preflight(struct h_req *rq, const char *origin) {
  if (h_cors_origin_allowed(rq->app->cfg->cors_origins, origin)) {
    h_reply_header(rq, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    h_reply_header(rq, "Access-Control-Allow-Headers",
                   "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
    h_reply_header(rq, "Access-Control-Max-Age", "600");
  }
  h_reply_no_content(rq);
}

/* Checks size (at most max_body bytes), media type, depth and syntax of a request body;
 * parses it into rq->body. */
static void parse_body(struct h_req *rq, long max_body) {
  const struct _u_request *req = rq->request;
  const struct h_config *cfg = rq->app->cfg;
  const char *length = h_req_header(rq, "Content-Length");
  if (req->binary_body_length > (size_t)max_body ||
      (length != NULL && strtoll(length, NULL, 10) > max_body)) {
    char msg[96];
    snprintf(msg, sizeof(msg), "The request body is larger than %ld bytes.", max_body);
    h_reply_error(rq, H_ERR_TOO_LARGE, NULL, msg, NULL);
    return;
  }
  if (req->binary_body_length == 0) {
    return;
  }
  /* Routes marked raw_body (the form-encoded SMS status callback) parse their own body. */
  if (h_route_raw_body(req->http_verb, req->url_path)) {
    return;
  }
  if (!h_is_json_content_type(h_req_header(rq, "Content-Type"))) {
    h_reply_error(rq, H_ERR_MEDIA_TYPE, NULL, "Request bodies must be application/json.", NULL);
    return;
  }
  if (!h_json_depth_ok(req->binary_body, req->binary_body_length, cfg->max_json_depth)) {
    char msg[96];
    snprintf(msg, sizeof(msg), "The JSON body nests deeper than %d levels.", cfg->max_json_depth);
    h_reply_error(rq, H_ERR_INVALID, "json_too_deep", msg, NULL);
    return;
  }
  json_error_t err;
  rq->body = json_loadb(req->binary_body, req->binary_body_length,
                        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (rq->body == NULL) {
    char msg[256];
    snprintf(msg, sizeof(msg), "The body is not valid JSON: %s (line %d, column %d).", err.text,
             err.line, err.column);
    h_reply_error(rq, H_ERR_INVALID, "malformed_json", msg, NULL);
  }
}

/* Opens the request: its h_req, id, client address, CORS preflight, body (bounded by
 * H_PROBE_MAX_BODY on the probe listener). */
static struct h_req *pre(const struct _u_request *request, struct _u_response *response,
                         struct h_app *app, bool probes_only) {
  struct h_req *rq = h_calloc(1, sizeof(*rq));
  rq->app = app;
  rq->request = request;
  rq->response = response;
  rq->probe = probes_only;
  clock_gettime(CLOCK_MONOTONIC, &rq->started);
  attach(rq, response);
  atomic_fetch_add(&rq->app->in_flight, 1);

  const char *incoming = h_req_header(rq, "X-Request-Id");
  if (h_request_id_valid(incoming)) {
    snprintf(rq->request_id, sizeof(rq->request_id), "%s", incoming);
  } else {
    h_uuid_v4_fast(rq->request_id); /* a correlation id: unique, need not be secret */
  }
  client_ip(request, rq->ip, sizeof(rq->ip));
  if (rq->app->cfg->trusted_proxies[0] != '\0') { /* Behind a load balancer */
    char peer[sizeof(rq->ip)];
    snprintf(peer, sizeof(peer), "%s", rq->ip);
    h_forwarded_client(rq->app->cfg->trusted_proxies, peer, h_req_header(rq, "X-Forwarded-For"),
                       rq->ip, sizeof(rq->ip));
  }

  const char *origin = h_req_header(rq, "Origin");
  if (strcmp(request->http_verb, "OPTIONS") == 0 && origin != NULL &&
      h_req_header(rq, "Access-Control-Request-Method") != NULL) {
    preflight(rq, origin);
  } else {
    parse_body(rq, probes_only ? H_PROBE_MAX_BODY : rq->app->cfg->max_body_bytes);
  }
  return rq;
}

/* A 500 for a handler that returned without a reply. */
static void no_reply(struct h_req *rq) {
  h_log_error("handler for %s %s sent no reply", rq->route->method, rq->route->path);
  h_reply_error(rq, H_ERR_INTERNAL, NULL, "The server failed to answer.", NULL);
}

/* The route's handler on the offload pool's thread (http/offload.h), where rq stays parked. */
static void run_offloaded(struct h_req *rq) {
  rq->route->handler(rq);
  if (!rq->done) {
    no_reply(rq);
  }
}

/* Authenticates and runs route's handler, or hands it to the offload pool when it waits. */
static void resource(struct h_req *rq, const struct h_route *route) {
  rq->route = route;
  h_route_bind(route, rq->request->url_path, rq->request->map_url);
  bool authenticated = h_authenticate(rq, route->auth);
  if (!h_rate_limit_route(rq, route) || !authenticated) {
    return;
  }
  if (route->waits && h_offload_begin(rq->app->offload, rq, run_offloaded)) {
    return; /* parked: dispatch hands it over once it holds it */
  }
  route->handler(rq);
  if (!rq->done && !rq->parked) {
    no_reply(rq);
  }
}

/* JSON 404 or 405 for a request no route answered. */
static void not_routed(struct h_req *rq) {
  char allow[128];
  char msg[160];
  const char *path = rq->request->url_path;
  if (h_route_allowed_methods(path, allow, sizeof(allow)) > 0) {
    h_reply_header(rq, "Allow", allow);
    snprintf(msg, sizeof(msg), "%s is not allowed here; use %s.", rq->request->http_verb, allow);
    h_reply_error(rq, H_ERR_METHOD, NULL, msg, NULL);
  } else {
    h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "No such route.", NULL);
  }
}

static void security_headers(struct h_req *rq) {
  const struct h_config *cfg = rq->app->cfg;
  h_reply_header(rq, "X-Request-Id", rq->request_id);
  if (atomic_load(&rq->app->stopping)) { /* Draining: no more requests on this socket */
    h_reply_header(rq, "Connection", "close");
  }
  h_reply_header(rq, "X-Content-Type-Options", "nosniff");
  h_reply_header(rq, "X-Frame-Options", "DENY");
  h_reply_header(rq, "Referrer-Policy", "no-referrer");
  if (u_map_get_case(rq->response->map_header, "Cache-Control") == NULL) {
    h_reply_header(rq, "Cache-Control", "no-store");
  }
  if (cfg->hsts) {
    h_reply_header(rq, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  }
  const char *origin = h_req_header(rq, "Origin");
  if (h_cors_origin_allowed(cfg->cors_origins, origin)) {
    h_reply_header(rq, "Access-Control-Allow-Origin", origin);
    h_reply_header(rq, "Access-Control-Expose-Headers",
                   "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, "
                   "RateLimit-Reset");
    h_reply_header(rq, "Vary", "Origin");
  }
}

/* Closes the request: 404/405 when nothing answered, headers, metrics, access log. */
static void post(const struct _u_request *request, struct h_req *rq) {
  if (!rq->done) {
    not_routed(rq);
  }
  security_headers(rq);

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double seconds = (double)(now.tv_sec - rq->started.tv_sec) +
                   (double)(now.tv_nsec - rq->started.tv_nsec) / 1e9;
  unsigned int status = (unsigned int)rq->response->status;
  const char *route = rq->route != NULL ? rq->route->path : "unmatched";
  h_metrics_observe(rq->app->metrics, route, request->http_verb, status, seconds);
  if (H_LOG_INFO <= h_log_threshold) {
    /* a path that carries a secret (the M-Pesa callbacks') is logged as its route */
    const char *path = rq->route != NULL && strstr(rq->route->path, ":secret") != NULL
                           ? rq->route->path
                           : request->url_path;
    json_t *fields = json_pack("{sssssisfss}", "method", request->http_verb, "path", path,
                               "status", (int)status, "duration_ms", seconds * 1000.0, "ip",
                               rq->ip);
    h_log_emit(H_LOG_INFO, "access", rq->request_id, fields, "%s %s %u", request->http_verb,
               path, status);
  }
  atomic_fetch_sub(&rq->app->in_flight, 1);
}

static int dispatch(const struct _u_request *request, struct _u_response *response,
                    struct h_app *app, bool probes_only) {
  struct h_req *rq = h_park_take(request, response);
  if (rq != NULL) { /* parked (http/park.h), back with its outcome */
    attach(rq, response);
    rq->park_resume(rq, rq->park_state);
    post(request, rq);
    return U_CALLBACK_COMPLETE;
  }
  rq = pre(request, response, app, probes_only);
  if (!rq->done) {
    const struct h_route *route = h_route_find(request->http_verb, request->url_path,
                                               probes_only);
    if (route != NULL) {
      resource(rq, route);
    } else if (probes_only) {
      h_reply_error(rq, H_ERR_NOT_FOUND, NULL, "The probe listener serves /healthz, /readyz"
                    " and /metrics only.", NULL);
    }
  }
  if (rq->parked) { /* kept for its return; a status MHD refuses, so nothing is sent now */
    h_park_hold(rq);
    response->shared_data = NULL;
    response->free_shared_data = NULL;
    response->status = 0;
    h_offload_submit(rq); /* last: an offloaded rq is the pool's from here */
    return U_CALLBACK_COMPLETE;
  }
  post(request, rq);
  return U_CALLBACK_COMPLETE;
}

void h_mw_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                            enum MHD_RequestTerminationCode toe) {
  struct _u_response response;
  if (h_park_closed_kept(connection) && ulfius_init_response(&response) == U_OK) {
    struct h_req *rq = h_park_take_closed(connection, &response);
    if (rq != NULL) { /* its client left: finished as the second pass would, nothing sent */
      attach(rq, &response);
      rq->park_resume(rq, rq->park_state);
      post(rq->request, rq);
      response.shared_data = NULL; /* ulfius frees it with the response it sends, not here */
      free_req(rq);
    }
    ulfius_clean_response(&response);
  }
  mhd_request_completed(cls, connection, con_cls, toe);
}

int h_mw_dispatch(const struct _u_request *request, struct _u_response *response,
                  void *user_data) {
  return dispatch(request, response, user_data, false);
}

int h_mw_dispatch_probes(const struct _u_request *request, struct _u_response *response,
                         void *user_data) {
  return dispatch(request, response, user_data, true);
}

/* http.h - the per-request context and the helpers handlers answer with.
 *
 * Handlers receive a struct h_req (request id, parsed body, caller) and answer
 * through h_reply_*: exactly one reply per request, all errors in the one shape
 * built by core/errors.h, with the status of the one mapping h_result_http_status. */
#ifndef HERALD_HTTP_H
#define HERALD_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <ulfius.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/result.h"

struct h_route;
struct h_offload_job;

struct h_req {
  struct h_app *app;           /* borrowed */
  const struct _u_request *request;
  struct _u_response *response;
  char request_id[65];
  char ip[64];
  struct timespec started;
  const struct h_route *route; /* the resource route that ran, NULL if none */
  bool probe;                  /* served by the probe listener (HERALD_PROBE_PORT) */
  bool done;                   /* a response has been decided */
  json_t *body;                /* parsed JSON body (owned) or NULL */
  /* The authenticated caller, filled by the auth step. */
  bool authenticated;
  char user_id[37];
  char role[16];
  char session_id[37];         /* access token's session (refresh family), "" if none */
  bool mfa;                    /* the token's sign-in passed a second factor */
  long token_epoch;            /* the access token's token epoch ("ep") */
  long long token_exp;         /* the access token's end (unix seconds) */
  /* Parked (http/park.h): waiting for another thread without holding this one. */
  bool parked;
  void *park_conn;             /* the suspended struct MHD_Connection */
  void (*park_resume)(struct h_req *rq, void *state);
  void *park_state;
  struct _u_map *park_headers; /* the headers of the first pass's response, or NULL */
  struct h_req *park_next;     /* the others parked on this thread */
  atomic_bool park_woken;      /* h_park_wake ran: the work is done, rq is the thread's again */
  struct h_offload_job *offload; /* to hand to the offload pool once held (http/offload.h) */
};

/* Sends body (stolen) with status. */
void h_reply_json(struct h_req *rq, unsigned int status, json_t *body);

/* Sends text, JSON already printed (borrowed: the response keeps a copy), with status, as
 * h_reply_json would have. */
void h_reply_json_text(struct h_req *rq, unsigned int status, const char *text);

/* The HTTP status for a result code (500 for unknown codes). Pure. */
unsigned int h_result_http_status(h_result r);

/* The error body of failure r described by e (borrowed). New reference. */
json_t *h_http_error_body(h_result r, const struct h_error *e);

/* Sends the error for r described by e (borrowed), with Retry-After when e asks. */
void h_reply_failure(struct h_req *rq, h_result r, const struct h_error *e);

/* Sends the error shape for r; code NULL uses the result's default code. */
void h_reply_error(struct h_req *rq, h_result r, const char *code, const char *message,
                   const char *param);

/* Sends a 400 listing every collected field error (fe is emptied). */
void h_reply_field_errors(struct h_req *rq, struct h_field_errors *fe);

/* Sends 204 with no body. */
void h_reply_no_content(struct h_req *rq);

/* Replies status with text (copied) as content_type (a provider's XML answer). */
void h_reply_text(struct h_req *rq, unsigned int status, const char *content_type,
                  const char *text);

/* Sets a response header (copied). */
void h_reply_header(struct h_req *rq, const char *name, const char *value);

/* A request header (case-insensitive), borrowed from the request, or NULL. */
const char *h_req_header(const struct h_req *rq, const char *name);

/* A path or query parameter, borrowed, or NULL. */
const char *h_req_param(const struct h_req *rq, const char *name);

/* The caller of rq as an audit actor (borrowed from rq). */
struct h_actor h_actor_of(const struct h_req *rq);

/* True when the Content-Type is application/json (parameters allowed). Pure. */
bool h_is_json_content_type(const char *content_type);

/* True when X-Request-Id is acceptable to echo: 1-64 of [A-Za-z0-9._:-]. Pure. */
bool h_request_id_valid(const char *id);

/* True when JSON text nests at most max_depth arrays/objects (strings skipped). Pure. */
bool h_json_depth_ok(const char *text, size_t len, int max_depth);

#endif

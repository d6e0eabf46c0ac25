/* stream.c - GET /api/v1/notifications/stream (Server-Sent Events) and
 * POST /api/v1/notifications/stream-tickets (docs/streaming.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "http/authn.h"
#include "http/stream_conn.h"
#include "inbox/stream_service.h"
#include "inbox/stream_ticket.h"
#include "notifications/notifications.h"

static void iso_utc(long long t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void h_notifications_stream_tickets_post(struct h_req *rq) {
  struct h_stream_grant g = {.epoch = rq->token_epoch, .expires = rq->token_exp};
  snprintf(g.user_id, sizeof(g.user_id), "%s", rq->user_id);
  snprintf(g.session_id, sizeof(g.session_id), "%s", rq->session_id);
  char *ticket = NULL;
  long long expires = 0;
  h_result r = h_stream_ticket_issue(rq->app, &g, &ticket, &expires);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, r == H_ERR_UNAUTHORIZED ? "The access token is about to expire."
                                                       : "Tickets cannot be issued now.", NULL);
    return;
  }
  char at[32], url[128];
  iso_utc(expires, at);
  snprintf(url, sizeof(url), "/api/v1/notifications/stream?ticket=%s", ticket);
  h_reply_json(rq, 201, json_pack("{ssssssss}", "object", "stream_ticket", "ticket", ticket,
                                  "expires_at", at, "url", url));
  free(ticket);
}

/* Last-Event-ID (header, else ?last_event_id=) into *id (-1 when absent); false when it is not
 * a decimal number. Pure but for rq. */
static bool last_event_id(const struct h_req *rq, long long *id) {
  const char *s = h_req_header(rq, "Last-Event-ID");
  if (s == NULL || s[0] == '\0') {
    s = h_req_param(rq, "last_event_id");
  }
  *id = -1;
  if (s == NULL || s[0] == '\0') {
    return true;
  }
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0 || s[0] < '0' || s[0] > '9' || strlen(s) > 19) {
    return false;
  }
  *id = v;
  return true;
}

/* Who the stream is for: a ticket (?ticket=) or the bearer token; false when it replied. */
static bool stream_grant(struct h_req *rq, struct h_stream_grant *g) {
  const char *ticket = h_req_param(rq, "ticket");
  if (ticket != NULL) {
    h_result r = h_stream_ticket_redeem(rq->app, ticket, g);
    if (r == H_ERR_UNAUTHORIZED) {
      h_log(H_LOG_WARNING, "security", rq->request_id, "bad or used stream ticket from %s",
            rq->ip);
      h_reply_error(rq, r, "invalid_ticket",
                    "The stream ticket is invalid, expired or already used.", "ticket");
    } else if (r != H_OK) {
      h_reply_error(rq, r, NULL, "The ticket could not be checked.", NULL);
    }
    return r == H_OK;
  }
  if (!h_authenticate(rq, H_AUTH_USER)) {
    return false;
  }
  memset(g, 0, sizeof(*g));
  snprintf(g->user_id, sizeof(g->user_id), "%s", rq->user_id);
  snprintf(g->session_id, sizeof(g->session_id), "%s", rq->session_id);
  g->epoch = rq->token_epoch;
  g->expires = rq->token_exp;
  return true;
}

void h_notifications_stream_get(struct h_req *rq) {
  long long last = -1;
  if (!last_event_id(rq, &last)) {
    h_reply_error(rq, H_ERR_INVALID, "invalid_last_event_id",
                  "Last-Event-ID must be an event id (a decimal number) of this stream.",
                  "Last-Event-ID");
    return;
  }
  struct h_stream_grant g;
  if (!stream_grant(rq, &g)) {
    return;
  }
  struct MHD_Connection *conn = h_stream_conn_find(rq->request->client_address);
  struct h_stream *st = NULL;
  h_result r = conn != NULL ? h_stream_connect(rq->app, rq->app->streams, &g, last,
                                               &h_stream_conn_ops, conn, &st)
                            : H_ERR_UNAVAILABLE;
  if (r == H_ERR_UNAUTHORIZED) {
    h_reply_error(rq, r, "invalid_token", "The access token is invalid or expired.", NULL);
    return;
  }
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "No stream can be opened on this server now; retry later.",
                  NULL);
    return;
  }
  if (!h_stream_conn_respond(rq->response, st)) {
    h_reply_error(rq, H_ERR_INTERNAL, NULL, "The stream could not be started.", NULL);
    return;
  }
  rq->done = true;
}

/* stream_ticket.h - single-use tickets that open a notification stream from a browser
 * (EventSource cannot send an Authorization header, and an access token never goes in a
 * URL). A ticket is 32 random bytes (URL-safe base64); Redis keeps only its SHA-256 as
 * "herald:stream:ticket:<hex>" holding the grant, for HERALD_STREAM_TICKET_TTL_S (never
 * past the access token's end); redeeming deletes it (GETDEL), so it works once. */
#ifndef HERALD_STREAM_TICKET_H
#define HERALD_STREAM_TICKET_H

#include "app/app.h"
#include "core/result.h"

/* Who a stream serves and for how long: the access token's user, session, token epoch and
 * end (unix seconds). */
struct h_stream_grant {
  char user_id[37];
  char session_id[37];
  long epoch;
  long long expires;
};

/* A new ticket for g (borrowed): *ticket is a new string the caller frees, *expires_at the
 * unix second it lapses. H_ERR_UNAVAILABLE when Redis is down. */
h_result h_stream_ticket_issue(struct h_app *app, const struct h_stream_grant *g, char **ticket,
                               long long *expires_at);

/* Redeems ticket (borrowed) into *out. H_ERR_UNAUTHORIZED when it is malformed, unknown,
 * used or expired; H_ERR_UNAVAILABLE when Redis is down. */
h_result h_stream_ticket_redeem(struct h_app *app, const char *ticket,
                                struct h_stream_grant *out);

/* True when s has the shape of a ticket (43 URL-safe base64 characters). Pure. */
bool h_stream_ticket_well_formed(const char *s);

#endif

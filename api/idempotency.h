/* idempotency.h - the Idempotency-Key contract of creating POSTs (DESIGN.md), for any
 * resource (notifications, payments, ...):
 *   same key + same request   -> the stored response, replayed (same status and body)
 *   same key + another request -> 400 idempotency_error
 *   same key, first still running -> 409
 * Keys are scoped to the caller (user or API key) and stored in PostgreSQL
 * (idempotency_keys), kept HERALD_IDEMPOTENCY_TTL_S (>= 24 h).
 *
 * Use in a handler, after validating the body:
 *   struct h_idem idem;
 *   if (!h_idem_begin(rq, &idem)) return;          // replied (replay, 400, 409, 503)
 *   r = service(..., &idem, ...);                   // calls h_idem_complete in its transaction
 *   if (r != H_OK) h_idem_abort(rq->app, &idem);    // lets a retry run again
 * Storing the outcome in the transaction of the change makes a replay exact even if the
 * process dies right after COMMIT; a key left in flight by a dead request may be taken
 * over after HERALD_IDEMPOTENCY_LOCK_S. */
#ifndef HERALD_IDEMPOTENCY_H
#define HERALD_IDEMPOTENCY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "http.h"
#include "result.h"

struct h_idem {
  bool active;     /* a key was sent and this request holds it */
  char caller[64]; /* "user:<uuid>" or "api_key:<uuid>" */
  char key[256];
  char hash[65];   /* h_idem_request_hash of this request */
};

/* SHA-256 (hex) of the method, the path and the body in canonical form (keys sorted,
 * compact), so key order and whitespace do not matter. body may be NULL. Pure. */
void h_idem_request_hash(const char *method, const char *path, const json_t *body,
                         char out[65]);

/* True when s may be used as a key: 1-255 visible ASCII characters. Pure. */
bool h_idem_key_valid(const char *s);

/* Starts an idempotent request (see above). Returns true to go on (idem->active says
 * whether a key is held), false when a reply has been sent. */
bool h_idem_begin(struct h_req *rq, struct h_idem *idem);

/* Stores the response (body borrowed) in the caller's open transaction. No-op when
 * idem is NULL or inactive. */
h_result h_idem_complete(PGconn *conn, const struct h_idem *idem, unsigned int status,
                         const json_t *body);

/* h_idem_complete for n requests in one statement (group commit): idems[i] (NULL or
 * inactive ones are skipped) gets status and bodies[i]. Everything borrowed. */
h_result h_idem_complete_many(PGconn *conn, const struct h_idem *const *idems,
                              unsigned int status, const json_t *const *bodies, int n);

/* Forgets an in-flight key after a failure (best effort); no-op when inactive. */
void h_idem_abort(struct h_app *app, const struct h_idem *idem);

/* Deletes records older than ttl_s; *deleted (may be NULL) receives how many. */
h_result h_idem_purge(PGconn *conn, int ttl_s, long *deleted);

#endif

/* idempotency.h - the records behind the Idempotency-Key contract of creating POSTs
 * (DESIGN.md), for any resource (notifications, payments, ...):
 *   same key + same request   -> the stored response, replayed (same status and body)
 *   same key + another request -> refused (idempotency_error)
 *   same key, first still running -> refused as a conflict
 * Keys are scoped to the caller (user or API key) and stored in PostgreSQL
 * (idempotency_keys), kept HERALD_IDEMPOTENCY_TTL_S (>= 24 h).
 *
 * The HTTP layer claims the key (h_idem_claim, through http/idempotency.h), or leaves the
 * claim to a service that makes it in the statement of its write (deferred), and fills
 * idem with how it answers: the status of each outcome, and for a failure its status and
 * error body. The service stores its outcome and body with h_idem_complete (or a final
 * failure with h_idem_complete_error) inside the transaction of the change, so a replay
 * is exact even if the process dies right after COMMIT, without the service knowing
 * HTTP; a request that failed in passing calls h_idem_abort so a retry runs again. A key
 * left in flight by a dead request may be taken over after HERALD_IDEMPOTENCY_LOCK_S. */
#ifndef HERALD_IDEMPOTENCY_H
#define HERALD_IDEMPOTENCY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/errors.h"
#include "core/result.h"
#include "store/db.h"

/* What a successful request produced. */
enum h_outcome { H_OUTCOME_OK, H_OUTCOME_CREATED, H_OUTCOME_ACCEPTED, H_OUTCOME_COUNT };

struct h_idem {
  bool active;     /* a key was sent and this request holds it (or will, when deferred) */
  bool deferred;   /* not claimed yet: the service's write claims it in its own statement
                    * and refuses the request with H_ERR_CONFLICT if another holds it */
  unsigned int status[H_OUTCOME_COUNT]; /* the response status of each outcome */
  unsigned int (*status_of)(h_result r); /* the response status of failure r */
  /* The response body of failure r described by e; new reference. */
  json_t *(*error_body)(h_result r, const struct h_error *e);
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

enum h_idem_state {
  H_IDEM_CLAIMED,   /* this request holds the key now */
  H_IDEM_REPLAY,    /* the key's request completed: replay its response */
  H_IDEM_MISMATCH,  /* the key was used with another request */
  H_IDEM_IN_FLIGHT, /* the key's request is still running */
};

/* Claims idem's key (caller, key and hash filled) or reads the row that holds it, in one
 * statement; a key in flight longer than lock_s, or older than ttl_s, is taken over.
 * On H_IDEM_REPLAY, *status and *body (caller frees) hold the stored response. */
h_result h_idem_claim(struct h_db *db, const struct h_idem *idem, int lock_s, int ttl_s,
                      enum h_idem_state *state, unsigned int *status, char **body);

/* Stores the response of outcome (body borrowed) in the caller's open transaction.
 * No-op when idem is NULL or inactive. */
h_result h_idem_complete(PGconn *conn, const struct h_idem *idem, enum h_outcome outcome,
                         const json_t *body);

/* Stores the final failure r described by e (borrowed) as the response, with the status
 * and body idem's callbacks give, in the caller's open transaction. No-op when idem is
 * NULL or inactive. */
h_result h_idem_complete_error(PGconn *conn, const struct h_idem *idem, h_result r,
                               const struct h_error *e);

/* Forgets an in-flight key after a failure (best effort); no-op when inactive. */
void h_idem_abort(struct h_db *db, const struct h_idem *idem);

/* Deletes records older than ttl_s; *deleted (may be NULL) receives how many. */
h_result h_idem_purge(PGconn *conn, int ttl_s, long *deleted);

#endif

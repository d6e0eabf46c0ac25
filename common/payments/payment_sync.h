/* payment_sync.h - applying what the provider says about a payment or a refund to
 * Herald's rows, through the forward-only rules of payment_state.h, in the caller's
 * transaction (the rows are locked by the caller). Every applied change writes an
 * audit_log row; a payment that succeeds, fails after it was under way, or is
 * refunded gets an e-mail notice written in the same transaction, whose delivery id
 * is collected in struct h_payment_notices and pushed after COMMIT. */
#ifndef HERALD_PAYMENT_SYNC_H
#define HERALD_PAYMENT_SYNC_H

#include <libpq-fe.h>
#include <stddef.h>

#include "app/app.h"
#include "audit/audit.h"
#include "payments/payment_provider.h"
#include "payments/payment_repo.h"
#include "payments/payment_state.h"
#include "payments/refund_repo.h"

#define H_NOTICES_MAX 4

struct h_payment_notices {
  char ids[H_NOTICES_MAX][37]; /* e-mail delivery ids to push after COMMIT */
  size_t n;
};

/* Where the news comes from: an answer to our own call and a fresh fetch are the
 * provider's current state; an event may be late or out of order. */
enum h_sync_source { H_SYNC_ANSWER, H_SYNC_FETCH, H_SYNC_EVENT };

/* Applies intent pi to the locked payment row (updated in place). *outcome (may be
 * NULL) receives the transition: H_TRANSITION_REFETCH asks the caller to fetch the
 * intent and call again with H_SYNC_FETCH. */
h_result h_payment_sync_intent(PGconn *conn, const struct h_actor *actor, struct h_payment *row,
                               const struct h_provider_payment *pi, enum h_sync_source source,
                               struct h_payment_notices *notices, enum h_transition *outcome);

/* Applies a provider refund: finds Herald's refund (by provider id or
 * metadata[herald_refund_id]) or, for a refund made outside Herald, records it
 * under its payment. Recounts the payment's refunded amount. H_ERR_NOT_FOUND when
 * neither the refund nor its payment is known. */
h_result h_payment_sync_refund(PGconn *conn, const struct h_actor *actor,
                               const struct h_provider_refund *obj, enum h_sync_source source,
                               struct h_payment_notices *notices, enum h_transition *outcome);

/* Pushes the collected notices (after COMMIT). */
void h_payment_notices_push(struct h_app *app, const struct h_payment_notices *notices,
                            const char *request_id);

/* The actor of changes the provider reports (webhooks): type "system". */
struct h_actor h_payment_system_actor(const char *ip, const char *request_id);

#endif

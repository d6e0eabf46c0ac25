/* payment_callback_service.c - unsigned provider callbacks -> fetch -> payments and refunds. */
#include "payments/payment_callback_service.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "payments/payment_internal.h"
#include "payments/payment_sync.h"

struct callback_ctx {
  struct h_app *app;
  struct h_actor actor;
  struct h_provider prov;
  struct h_provider_payment claim; /* what the callback says */
  struct h_provider_payment truth; /* what the provider says */
  struct h_provider_refund refund;
  struct h_payment row;
  struct h_payment_notices notices;
  const char *outcome;
};

/* Reads the claimed payment's row; H_ERR_NOT_FOUND unless it is this provider's. */
static h_result read_row_tx(PGconn *conn, void *arg) {
  struct callback_ctx *c = arg;
  h_result r = h_payment_repo_lock_by_intent(conn, c->claim.id, NULL, &c->row);
  if (r == H_OK && strcmp(c->row.provider, c->prov.ops->name) != 0) {
    r = H_ERR_NOT_FOUND;
  }
  return r;
}

/* Applies the fetched payment to the locked row. */
static h_result apply_payment_tx(PGconn *conn, void *arg) {
  struct callback_ctx *c = arg;
  h_result r = h_payment_repo_lock(conn, c->row.id, NULL, &c->row);
  enum h_transition t = H_TRANSITION_IGNORE;
  if (r == H_OK) {
    r = h_payment_sync_intent(conn, &c->actor, &c->row, &c->truth, H_SYNC_FETCH, &c->notices,
                              &t);
  }
  c->outcome = t == H_TRANSITION_APPLY ? "applied" : "unchanged";
  return r;
}

static h_result apply_refund_tx(PGconn *conn, void *arg) {
  struct callback_ctx *c = arg;
  enum h_transition t = H_TRANSITION_IGNORE;
  h_result r = h_payment_sync_refund(conn, &c->actor, &c->refund, H_SYNC_EVENT, &c->notices, &t);
  c->outcome = t == H_TRANSITION_APPLY ? "applied" : t == H_TRANSITION_SAME ? "duplicate"
                                                                            : "unchanged";
  return r;
}

/* The payment callback: the row, the fetch, then the fetched state applied. */
static h_result payment_callback(struct callback_ctx *c, const char *request_id) {
  h_result r = h_db_run(c->app->db, read_row_tx, c);
  if (r != H_OK) {
    return r;
  }
  if (h_payment_status_final(c->row.status)) {
    c->outcome = "duplicate"; /* settled: a replay asks the provider nothing */
    return H_OK;
  }
  if (c->claim.amount >= 0 && strcmp(c->claim.status, "succeeded") == 0 &&
      c->claim.amount != c->row.amount) {
    h_log(H_LOG_WARNING, "security", request_id,
          "%s callback for payment %s claims amount %lld, not %lld", c->prov.ops->name,
          c->row.id, c->claim.amount, c->row.amount);
    return H_ERR_INVALID;
  }
  struct h_provider_error perr = {0};
  r = c->prov.ops->payment_fetch(&c->prov, c->claim.id, &c->truth, &perr);
  if (r != H_OK) {
    h_log(H_LOG_WARNING, NULL, request_id, "%s callback for payment %s: fetch failed (%s)",
          c->prov.ops->name, c->row.id, h_result_name(r));
    return H_ERR_UNAVAILABLE;
  }
  if (strcmp(c->truth.status, c->claim.status) != 0) {
    h_log(H_LOG_WARNING, "security", request_id,
          "%s callback for payment %s claims %s; the provider says %s", c->prov.ops->name,
          c->row.id, c->claim.status, c->truth.status);
    if (!h_payment_status_final(c->truth.status)) {
      c->outcome = "unconfirmed";
      return H_OK;
    }
  } else if (strcmp(c->truth.status, "succeeded") == 0) {
    snprintf(c->truth.reference, sizeof(c->truth.reference), "%s", c->claim.reference);
  }
  return h_db_tx(c->app->db, apply_payment_tx, c);
}

/* The answer for a failure r. */
static h_result fail(struct h_error *err, h_result r) {
  if (r == H_ERR_INVALID) {
    return h_error_set(err, r, "invalid_callback",
                       "The body is not a callback of this provider, or it contradicts the "
                       "payment it names.", NULL);
  }
  if (r == H_ERR_NOT_FOUND) {
    return h_error_set(err, r, "not_found", "No payment or refund of this provider has this id.",
                       NULL);
  }
  return h_error_set(err, H_ERR_UNAVAILABLE, NULL,
                     "The callback could not be applied now; deliver it again later.", NULL);
}

h_result h_payment_callback_apply(struct h_app *app, const char *provider, const char *ip,
                                  const char *request_id, const json_t *body, json_t **receipt,
                                  struct h_error *err) {
  struct callback_ctx c = {.app = app, .actor = h_payment_system_actor(ip, request_id),
                           .outcome = "unchanged"};
  memset(err, 0, sizeof(*err));
  *receipt = NULL;
  if (!h_provider_init_named(&c.prov, app->cfg, provider, request_id) ||
      c.prov.ops->callback_payment_read == NULL) {
    return h_error_set(err, H_ERR_UNAVAILABLE, "payments_not_configured",
                       "This provider is not configured on this server.", NULL);
  }
  h_result r = c.prov.ops->callback_payment_read(body, &c.claim);
  if (r == H_OK) {
    r = payment_callback(&c, request_id);
  } else if (r == H_ERR_NOT_FOUND && c.prov.ops->callback_refund_read(body, &c.refund) == H_OK) {
    r = h_db_tx(app->db, apply_refund_tx, &c);
  } else {
    r = H_ERR_INVALID;
  }
  h_provider_payment_clear(&c.claim);
  h_provider_payment_clear(&c.truth);
  if (r != H_OK) {
    return fail(err, r);
  }
  h_payment_notices_push(app, &c.notices, request_id);
  *receipt = json_pack("{sbsssb}", "received", 1, "outcome", c.outcome, "duplicate",
                       strcmp(c.outcome, "duplicate") == 0);
  return H_OK;
}

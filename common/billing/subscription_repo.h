/* subscription_repo.h - SQL of subscriptions and their invoices. Every json_t **
 * out-parameter is a new reference for the caller. */
#ifndef HERALD_SUBSCRIPTION_REPO_H
#define HERALD_SUBSCRIPTION_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "billing/billing_provider.h"
#include "core/page.h"
#include "core/result.h"

/* The columns the rules need. */
struct h_subscription {
  char id[37];
  char user_id[37];
  char plan_id[37];
  char status[32];
  char provider_id[H_PROVIDER_ID_LEN]; /* "" while pending */
  char item[H_PROVIDER_ID_LEN];
  bool cancel_at_period_end;
};

/* Inserts a pending subscription of user_id to plan_id; H_ERR_CONFLICT when the user has
 * one that is not over (then *existing, when it is pending for the same plan, is it). */
h_result h_subscription_repo_insert(PGconn *conn, const char *user_id, const char *plan_id,
                                    struct h_subscription *out);
/* The user's live subscription (not canceled), locked; H_ERR_NOT_FOUND if none. */
h_result h_subscription_repo_live(PGconn *conn, const char *user_id, struct h_subscription *out);
/* Locks subscription id (owner NULL: any user's); H_ERR_NOT_FOUND if none. */
h_result h_subscription_repo_lock(PGconn *conn, const char *id, const char *owner,
                                  struct h_subscription *out);
/* Locks the subscription of a provider id, else of herald_id while it has no provider id. */
h_result h_subscription_repo_lock_by_provider(PGconn *conn, const char *provider_id,
                                              const char *herald_id, struct h_subscription *out);
/* Writes the provider's view s (and plan_id when not NULL) to subscription id. */
h_result h_subscription_repo_apply(PGconn *conn, const char *id,
                                   const struct h_provider_subscription *s, const char *plan_id);
/* Removes a pending subscription the provider never made. */
h_result h_subscription_repo_drop_pending(PGconn *conn, const char *id);
h_result h_subscription_repo_set_failed(PGconn *conn, const char *id, int failed_attempts);

h_result h_subscription_repo_get_json(PGconn *conn, const char *id, json_t **out);
h_result h_subscription_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                                  json_t **data, bool *has_more);

/* Records invoice inv of subscription_id; *notified receives the failed attempts the
 * user was already told of. */
h_result h_subscription_repo_invoice(PGconn *conn, const char *subscription_id,
                                     const struct h_provider_invoice *inv, int *notified);
h_result h_subscription_repo_invoice_notified(PGconn *conn, const char *provider_invoice_id,
                                              int attempts);

#endif

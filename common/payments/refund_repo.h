/* refund_repo.h - SQL for refunds. json_t ** out-parameters are new references. */
#ifndef HERALD_REFUND_REPO_H
#define HERALD_REFUND_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "payments/payment_provider.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_refund {
  char id[37];
  char payment_id[37];
  char status[32];
  char currency[4];
  char provider_refund_id[H_PROVIDER_ID_LEN]; /* "" until the provider made it */
  long long amount;
  bool needs_reconciliation;
};

/* A new refund; pointers borrowed, NULL when absent. */
struct h_refund_new {
  const char *payment_id;
  const char *currency;
  const char *reason;
  const char *status;
  const char *provider_refund_id;
  const char *created_by;
  long long amount;
  bool in_doubt; /* needs_reconciliation */
};

h_result h_refund_repo_insert(PGconn *conn, const struct h_refund_new *in, struct h_refund *out);

/* Locks the refund with this provider id, or else the one whose id is
 * herald_refund_id (either may be NULL or ""). H_ERR_NOT_FOUND when none. */
h_result h_refund_repo_lock_by_provider(PGconn *conn, const char *provider_refund_id,
                                        const char *herald_refund_id, struct h_refund *out);

/* Writes a provider answer: status (NULL keeps it), provider id (kept once set),
 * failure reason, and whether the outcome is still in doubt. */
h_result h_refund_repo_apply(PGconn *conn, const char *id, const char *status,
                             const char *provider_refund_id, const char *failure_reason,
                             bool in_doubt);

h_result h_refund_repo_get_json(PGconn *conn, const char *id, json_t **out);
h_result h_refund_repo_list(PGconn *conn, const char *payment_id, const struct h_page *page,
                            json_t **data, bool *has_more);

#endif

/* reconcile_repo.h - SQL of reconciliation: the sync schedule columns of payments
 * and refunds, runs, items, jobs and housekeeping. table is "payments" or "refunds"
 * (chosen by the caller from these two constants only). json_t ** out-parameters
 * are new references. */
#ifndef HERALD_RECONCILE_REPO_H
#define HERALD_RECONCILE_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <time.h>

#include "payments/payment_provider.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

h_result h_reconcile_repo_sync_attempts(PGconn *conn, const char *table, const char *id,
                                        int *attempts);
/* sync_attempts = attempts, next_sync_at = now + delay_s. */
h_result h_reconcile_repo_schedule(PGconn *conn, const char *table, const char *id, int attempts,
                                   int delay_s);
/* needs_review = true, no further sync. */
h_result h_reconcile_repo_mark_review(PGconn *conn, const char *table, const char *id);
/* Settled: schedule cleared. */
h_result h_reconcile_repo_settled(PGconn *conn, const char *table, const char *id);
/* Claims one payment or refund whose sync is due (leased for 10 minutes, SKIP
 * LOCKED); table receives "payments" or "refunds". H_ERR_NOT_FOUND when none. */
h_result h_reconcile_repo_claim_due(PGconn *conn, char table[16], char id[37]);

/* Writes one e-mail per active admin; appends the delivery ids to ids (array). */
h_result h_reconcile_repo_notify_admins(PGconn *conn, const char *template_key, const char *title,
                                        const char *body, json_t *ids);

h_result h_reconcile_repo_payment_metadata(PGconn *conn, const char *id, json_t **out);

struct h_reconcile_refund_src {
  char provider_refund_id[H_PROVIDER_ID_LEN];
  char pi_id[H_PROVIDER_ID_LEN]; /* the payment's provider reference, else its provider id */
  char provider[16];
  char reason[40];
  long long amount;
};
h_result h_reconcile_repo_refund_source(PGconn *conn, const char *id,
                                        struct h_reconcile_refund_src *out);

/* Herald's side of a period for one provider: {"payments": {key: {...}}, "refunds":
 * {key: {...}}} keyed by provider id (else Herald's id). */
h_result h_reconcile_repo_local(PGconn *conn, const char *provider, time_t since, time_t until,
                                json_t **out);

/* Runs. */
h_result h_reconcile_repo_run_insert(PGconn *conn, time_t since, time_t until,
                                     const char *requested_by, char run_id[37]);
h_result h_reconcile_repo_run_period(PGconn *conn, const char *run_id, time_t *since,
                                     time_t *until, char status[16]);
h_result h_reconcile_repo_run_status(PGconn *conn, const char *run_id, const char *status,
                                     const char *error);
/* Inserts the item unless this period already has it; *added tells. */
h_result h_reconcile_repo_item_insert(PGconn *conn, const char *run_id, time_t since, time_t until,
                                      const json_t *item, bool *added);
h_result h_reconcile_repo_run_finish(PGconn *conn, const char *run_id, const json_t *totals);
/* Whether a run over exactly this period exists (any status). */
h_result h_reconcile_repo_run_exists(PGconn *conn, time_t since, time_t until, bool *exists);

h_result h_reconcile_repo_run_get_json(PGconn *conn, const char *run_id, const char *kind,
                                       json_t **out);
h_result h_reconcile_repo_run_list(PGconn *conn, const struct h_page *page, json_t **data,
                                   bool *has_more);

/* Deletes up to batch rows of one housekeeping class (0..3); *n: rows deleted. */
h_result h_reconcile_repo_purge(PGconn *conn, int what, int days, int batch, long *n);

#endif

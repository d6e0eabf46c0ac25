/* dispute_repo.h - SQL of disputes: recording what the provider reports, evidence,
 * the admin list, and the outcomes of a period for the ledger. Every json_t **
 * out-parameter is a new reference for the caller. */
#ifndef HERALD_DISPUTE_REPO_H
#define HERALD_DISPUTE_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <time.h>

#include "core/page.h"
#include "core/result.h"
#include "payments/dispute_provider.h"

/* The columns the rules need. */
struct h_dispute {
  char id[37];
  char payment_id[37];
  char provider_id[H_PROVIDER_ID_LEN];
  char status[32];
};

/* Inserts the provider dispute d of payment_id, or locks the row it already has;
 * *created tells which. */
h_result h_dispute_repo_upsert(PGconn *conn, const char *payment_id,
                               const struct h_provider_dispute *d, struct h_dispute *out,
                               bool *created);

/* Locks a dispute by Herald's id; H_ERR_NOT_FOUND if none. */
h_result h_dispute_repo_lock(PGconn *conn, const char *id, struct h_dispute *out);

/* Writes what the provider says (status, amount, reason, due date; closed_at once
 * final) to dispute id. */
h_result h_dispute_repo_apply(PGconn *conn, const char *id, const struct h_provider_dispute *d);

/* Records the evidence text an admin (admin_id, may be NULL) submitted. */
h_result h_dispute_repo_evidence(PGconn *conn, const char *id, const char *text,
                                 const char *admin_id);

/* The API object of a dispute into *out. */
h_result h_dispute_repo_get_json(PGconn *conn, const char *id, json_t **out);

/* Newest first, keyset on (created_at, id); status may be NULL (every status). */
h_result h_dispute_repo_list(PGconn *conn, const struct h_page *page, const char *status,
                             json_t **data, bool *has_more);

/* Outcomes of [since, until): {"opened","won","lost","lost_amount"} (opened by
 * created_at, won and lost by closed_at). */
h_result h_dispute_repo_period(PGconn *conn, time_t since, time_t until, json_t **out);

/* Writes an e-mail notification (category billing, data {"dispute_id"}) to every
 * active admin; the delivery ids are appended to ids (a JSON array). */
h_result h_dispute_repo_notify_admins(PGconn *conn, const char *dispute_id,
                                      const char *template_key, const char *title,
                                      const char *body, json_t *ids);

#endif

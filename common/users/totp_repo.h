/* totp_repo.h - SQL for two-factor authentication: TOTP secrets, recovery codes (by
 * SHA-256) and sign-in challenges (by SHA-256). */
#ifndef HERALD_TOTP_REPO_H
#define HERALD_TOTP_REPO_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"

/* *enabled: user_id has a confirmed TOTP secret. */
h_result h_totp_repo_enabled(PGconn *conn, const char *user_id, bool *enabled);

struct h_totp_row {
  char secret[64]; /* base32 */
  bool confirmed;
  uint64_t last_step;
};

/* Locks (FOR UPDATE) and reads the secret of user_id; H_ERR_NOT_FOUND when none. */
h_result h_totp_repo_lock(PGconn *conn, const char *user_id, struct h_totp_row *out);

/* Stores secret as user_id's pending secret (replacing a pending one);
 * H_ERR_CONFLICT when a confirmed one exists. */
h_result h_totp_repo_put_pending(PGconn *conn, const char *user_id, const char *secret);

/* Confirms the pending secret, recording step as used. */
h_result h_totp_repo_confirm(PGconn *conn, const char *user_id, uint64_t step);

/* Records step as the last used one; H_ERR_CONFLICT when it (or a later one) was used. */
h_result h_totp_repo_use_step(PGconn *conn, const char *user_id, uint64_t step);

/* Removes the secret and the recovery codes of user_id. */
h_result h_totp_repo_delete(PGconn *conn, const char *user_id);

/* Replaces the recovery codes of user_id with n new ones (SHA-256 hex each). */
h_result h_recovery_repo_replace(PGconn *conn, const char *user_id, char (*hashes)[65],
                                 size_t n);

/* Uses the unused code with hash; H_ERR_NOT_FOUND when there is none. *left receives
 * how many unused codes remain. */
h_result h_recovery_repo_use(PGconn *conn, const char *user_id, const char *hash, int *left);

h_result h_challenge_repo_insert(PGconn *conn, const char *user_id, const char *hash, int ttl_s,
                                 const char *ip, const char *user_agent);

struct h_challenge_row {
  char id[37], user_id[37];
  int attempts;
  bool live; /* neither used nor expired */
};

/* Locks and reads the challenge with hash; H_ERR_NOT_FOUND when there is none. */
h_result h_challenge_repo_lock(PGconn *conn, const char *hash, struct h_challenge_row *out);
h_result h_challenge_repo_failed(PGconn *conn, const char *id);
h_result h_challenge_repo_use(PGconn *conn, const char *id);

#endif

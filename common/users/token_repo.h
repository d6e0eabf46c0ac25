/* token_repo.h - SQL for refresh tokens, one-time tokens and API keys. Tokens are
 * looked up by their SHA-256 hex; raw tokens never reach the database. */
#ifndef HERALD_TOKEN_REPO_H
#define HERALD_TOKEN_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

/* A token of family_id (a session); ip and user_agent (may be NULL) describe the client,
 * mfa whether its sign-in passed a second factor. */
h_result h_refresh_insert(PGconn *conn, const char *user_id, const char *family_id,
                          const char *token_hash, int ttl_s, const char *ip,
                          const char *user_agent, bool mfa);

struct h_refresh_row {
  char id[37], user_id[37], family_id[37], role[16], user_status[16];
  bool used, revoked, expired, mfa;
  long token_epoch; /* the user's */
};

/* Locks and reads the token row with hash; H_ERR_NOT_FOUND if there is none. */
h_result h_refresh_lock(PGconn *conn, const char *token_hash, struct h_refresh_row *out);
h_result h_refresh_mark_used(PGconn *conn, const char *id);
h_result h_refresh_revoke_family(PGconn *conn, const char *family_id);
h_result h_refresh_revoke_user(PGconn *conn, const char *user_id);

/* Sessions: the live refresh families of user_id, newest use first, at most limit in
 * wire shape {"id","object":"session","user_agent","ip","created_at","last_used_at",
 * "expires_at","current"}; current (may be NULL) is the caller's family. */
h_result h_session_repo_list(PGconn *conn, const char *user_id, const char *current, int limit,
                             json_t **data, bool *has_more);

/* Revokes the live family family_id of user_id; H_ERR_NOT_FOUND when there is none. */
h_result h_session_repo_revoke(PGconn *conn, const char *user_id, const char *family_id);

/* One-time tokens (kind: "password_reset", "email_verification"). */
h_result h_ott_insert(PGconn *conn, const char *user_id, const char *kind,
                      const char *token_hash, int ttl_s);
/* Uses a live token; user_id receives its owner. H_ERR_NOT_FOUND when unknown,
 * used or expired. */
/* Ends every unused token of kind that user_id holds (a newer one replaces them). */
h_result h_ott_revoke_kind(PGconn *conn, const char *user_id, const char *kind);
h_result h_ott_consume(PGconn *conn, const char *kind, const char *token_hash, char user_id[37]);

/* API keys: key objects in wire shape (new references). */
h_result h_api_key_insert(PGconn *conn, const char *name, const char *prefix,
                          const char *key_hash, const char *created_by, json_t **key);
h_result h_api_key_list(PGconn *conn, const struct h_page *page, json_t **data, bool *has_more);
h_result h_api_key_revoke(PGconn *conn, const char *id);
/* The live (not revoked) key whose hash is key_hash into id, stamping its last use;
 * H_ERR_NOT_FOUND when there is none. */
h_result h_api_key_touch(PGconn *conn, const char *key_hash, char id[37]);

#endif

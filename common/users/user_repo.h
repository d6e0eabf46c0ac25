/* user_repo.h - SQL for the users table. User objects come back as JSON in their
 * wire shape ({"id","object":"user","email",...}); every json_t * out-parameter is
 * a new reference the caller decrefs. */
#ifndef HERALD_USER_REPO_H
#define HERALD_USER_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_user_input {
  const char *email, *password_hash, *name, *phone, *timezone, *locale;
};

/* A new user; H_ERR_CONFLICT when the e-mail (any case) is taken. */
h_result h_user_repo_insert(PGconn *conn, const struct h_user_input *in, json_t **user);

/* What a sign-in needs to know about an account. */
struct h_login_row {
  char id[37];
  char role[16];
  char status[16];
  char *password_hash; /* owned: free() */
  int locked_for_s;    /* > 0 while locked */
  long token_epoch;
};

/* Looks up an active or disabled account by e-mail (any case); H_ERR_NOT_FOUND if none. */
h_result h_user_repo_login_row(PGconn *conn, const char *email, struct h_login_row *out);

/* What counting one failed sign-in found. */
struct h_login_failure {
  bool was_locked;  /* another failure had locked the account meanwhile: not counted */
  bool locked_now;  /* this failure reached the threshold and locked it */
  int locked_for_s; /* seconds left when was_locked */
};

/* Counts a failed sign-in atomically (the row is locked while it is counted). */
h_result h_user_repo_login_failed(PGconn *conn, const char *id, int threshold, int window_s,
                                  int duration_s, struct h_login_failure *out);
h_result h_user_repo_login_succeeded(PGconn *conn, const char *id);

/* A live (not deleted) user; H_ERR_NOT_FOUND otherwise. */
h_result h_user_repo_get(PGconn *conn, const char *id, json_t **user);

/* Profile fields; a NULL field is left unchanged, set_phone_null clears the phone. */
struct h_profile_patch {
  const char *name, *phone, *timezone, *locale;
  bool clear_name, clear_phone;
};
h_result h_user_repo_update_profile(PGconn *conn, const char *id, const struct h_profile_patch *p,
                                    json_t **user);

/* The stored password hash of a live user (caller frees). */
h_result h_user_repo_password_hash(PGconn *conn, const char *id, char **hash);
/* Replaces old_hash by new_hash (the same password, current parameters) unless the
 * password changed meanwhile; touches nothing else. */
h_result h_user_repo_rehash(PGconn *conn, const char *id, const char *old_hash,
                            const char *new_hash);
h_result h_user_repo_set_password(PGconn *conn, const char *id, const char *hash);
h_result h_user_repo_mark_verified(PGconn *conn, const char *id);

/* Erases personal data of the users row: e-mail, name, phone, password, time zone, locale,
 * lockout state; status becomes deleted. */
h_result h_user_repo_anonymize(PGconn *conn, const char *id);

/* Admin listing, newest first, filtered (NULL filters are ignored). */
h_result h_user_repo_list(PGconn *conn, const char *email_prefix, const char *role,
                          const char *status, const struct h_page *page, json_t **data,
                          bool *has_more);

/* Admin change of role and/or status (NULL leaves it). */
h_result h_user_repo_admin_update(PGconn *conn, const char *id, const char *role,
                                  const char *status, json_t **user);

/* Locks (FOR UPDATE) the account of email (any case) and reads its id and role;
 * H_ERR_NOT_FOUND when there is none. */
h_result h_user_repo_lock_by_email(PGconn *conn, const char *email, char id[37], char role[16]);

/* Inserts an active, verified admin; id receives its id. H_ERR_CONFLICT when the e-mail
 * is taken. */
h_result h_user_repo_insert_admin(PGconn *conn, const char *email, const char *password_hash,
                                  char id[37]);

/* Makes account id an active, verified admin with password_hash. */
h_result h_user_repo_make_admin(PGconn *conn, const char *id, const char *password_hash);

/* The token epoch of an active account; -1 when it is disabled, deleted or unknown. */
h_result h_user_repo_token_epoch(PGconn *conn, const char *id, long *epoch);

/* Raises the token epoch of id (every access token issued before stops); *epoch (may be
 * NULL) receives the new one. Callers drop the process's copy after the commit
 * (h_token_epoch_forget, users/token_epoch.h). */
h_result h_user_repo_bump_epoch(PGconn *conn, const char *id, long *epoch);

/* The role and token epoch of an active account, for issuing its tokens;
 * H_ERR_NOT_FOUND when it is disabled, deleted or unknown. */
h_result h_user_repo_grant_row(PGconn *conn, const char *id, char role[16], long *epoch);

#endif

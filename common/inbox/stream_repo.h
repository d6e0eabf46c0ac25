/* stream_repo.h - SQL of the notification stream: where a user's feed stands (head), the
 * changes after a position (replay and live), unread counts and account epochs, the last
 * three for many users in one statement. PGresult ** out-parameters are the caller's to
 * PQclear(). */
#ifndef HERALD_STREAM_REPO_H
#define HERALD_STREAM_REPO_H

#include <libpq-fe.h>

#include "core/result.h"

/* user_id's newest event_seq (0 when none) and unread count. */
h_result h_stream_repo_head(PGconn *conn, const char *user_id, long long *head, long *unread);

/* The columns of h_stream_repo_changes' rows. */
enum h_stream_col {
  H_STREAM_COL_USER,     /* user id */
  H_STREAM_COL_SEQ,      /* event_seq */
  H_STREAM_COL_FIRST,    /* the event_seq it was created with */
  H_STREAM_COL_DELETED,  /* "t" / "f" */
  H_STREAM_COL_ITEM,     /* the feed item (JSON text, the wire shape of GET /notifications) */
};

/* For each of the n users (users[i], after[i]), its in-app, due rows whose event_seq is
 * above after[i], at most limit per user, ordered by user then event_seq. */
h_result h_stream_repo_changes(PGconn *conn, int n, const char *const *users,
                               const long long *after, int limit, PGresult **res);

/* (user id, unread count) of each of the n users. */
h_result h_stream_repo_unread(PGconn *conn, int n, const char *const *users, PGresult **res);

/* (user id, token epoch, or -1 when the account is not active or gone) of each user. */
h_result h_stream_repo_epochs(PGconn *conn, int n, const char *const *users, PGresult **res);

#endif

/* stream_repo.c - see stream_repo.h. */
#include "inbox/stream_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "notifications/notification_repo.h"
#include "store/db.h"
#include "queue/jobs.h"

h_result h_stream_repo_head(PGconn *conn, const char *user_id, long long *head, long *unread) {
  const char *params[] = {user_id};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
      "SELECT COALESCE((SELECT max(event_seq) FROM notifications"
      "   WHERE user_id = $1::uuid AND in_app), 0),"
      " " H_UNREAD_COUNT_SQL("$1::uuid"),
      1, params, &res);
  if (r == H_OK) {
    *head = atoll(PQgetvalue(res, 0, 0));
    *unread = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
  }
  return r;
}

/* "{a,b,...}": the n strings as a PostgreSQL array literal (new string, caller frees). The
 * values are UUIDs and decimal numbers, which need no quoting. */
static char *array_literal(int n, const char *const *items) {
  size_t cap = 3;
  for (int i = 0; i < n; i++) {
    cap += strlen(items[i]) + 1;
  }
  char *out = h_malloc(cap);
  size_t len = 0;
  out[len++] = '{';
  for (int i = 0; i < n; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "", items[i]);
  }
  out[len++] = '}';
  out[len] = '\0';
  return out;
}

/* after[] as an array literal (new string, caller frees). */
static char *numbers_literal(int n, const long long *after) {
  char **text = h_malloc((size_t)(n > 0 ? n : 1) * sizeof(*text));
  for (int i = 0; i < n; i++) {
    text[i] = h_malloc(24);
    snprintf(text[i], 24, "%lld", after[i]);
  }
  char *out = array_literal(n, (const char *const *)text);
  for (int i = 0; i < n; i++) {
    free(text[i]);
  }
  free(text);
  return out;
}

h_result h_stream_repo_changes(PGconn *conn, int n, const char *const *users,
                               const long long *after, int limit, PGresult **res) {
  char *ids = array_literal(n, users);
  char *afters = numbers_literal(n, after);
  char lim[16];
  snprintf(lim, sizeof(lim), "%d", limit);
  const char *params[] = {ids, afters, lim};
  h_result r = h_db_exec(conn,
      "SELECT d.uid, c.event_seq, COALESCE(c.created_seq, c.event_seq),"
      "   c.deleted_at IS NOT NULL, c.item"
      " FROM unnest($1::uuid[], $2::bigint[]) AS d(uid, after)"
      " CROSS JOIN LATERAL (SELECT event_seq, created_seq, deleted_at,"
      "     (SELECT to_json(f) FROM (SELECT " H_NOTIF_FEED_COLUMNS ") f) AS item"
      "   FROM notifications WHERE user_id = d.uid AND in_app AND event_seq > d.after"
      "     AND (send_at IS NULL OR send_at <= now())"
      "   ORDER BY event_seq LIMIT $3::int) c"
      " ORDER BY 1, 2",
      3, params, res);
  free(ids);
  free(afters);
  return r;
}

/* Runs sql, whose $1 is a uuid[], with the n users. */
static h_result per_user(PGconn *conn, const char *sql, int n, const char *const *users,
                         PGresult **res) {
  char *ids = array_literal(n, users);
  const char *params[] = {ids};
  h_result r = h_db_exec(conn, sql, 1, params, res);
  free(ids);
  return r;
}

h_result h_stream_repo_unread(PGconn *conn, int n, const char *const *users, PGresult **res) {
  return per_user(conn,
                  "SELECT d.uid, " H_UNREAD_COUNT_SQL("d.uid")
                  " FROM unnest($1::uuid[]) AS d(uid)",
                  n, users, res);
}

h_result h_stream_repo_epochs(PGconn *conn, int n, const char *const *users, PGresult **res) {
  return per_user(conn,
                  "SELECT d.uid, COALESCE((SELECT CASE WHEN status = 'active' THEN token_epoch"
                  "   ELSE -1 END FROM users WHERE id = d.uid), -1)"
                  " FROM unnest($1::uuid[]) AS d(uid)",
                  n, users, res);
}

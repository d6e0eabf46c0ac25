/* topic_repo.c - SQL for topics and subscriptions. */
#include "topics/topic_repo.h"

#include <stdlib.h>

#include "store/db.h"

#define TOPIC_COLUMNS                                                                         \
  "t.key, 'topic' AS object, t.name, t.description, " H_SQL_TS("t.created_at") " AS created_at"

h_result h_topic_repo_insert(PGconn *conn, const char *key, const char *name,
                             const char *description, json_t **out) {
  const char *params[] = {key, name, description};
  return h_db_one(conn,
                  "INSERT INTO topics AS t (key, name, description) VALUES ($1, $2, $3)"
                  " RETURNING " TOPIC_COLUMNS,
                  3, params, out);
}

/* Runs sql and hands its rows out as an array. */
static h_result rows(PGconn *conn, const char *sql, int n, const char *const *params,
                     json_t **out) {
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, sql, n, params, &res);
  if (r == H_OK) {
    *out = h_db_rows_json(res, PQntuples(res));
    PQclear(res);
  }
  return r;
}

h_result h_topic_repo_list(PGconn *conn, json_t **out) {
  return rows(conn, "SELECT " TOPIC_COLUMNS " FROM topics t ORDER BY t.key LIMIT 1000", 0, NULL,
              out);
}

h_result h_topic_repo_list_mine(PGconn *conn, const char *user_id, json_t **out) {
  const char *params[] = {user_id};
  return rows(conn,
              "SELECT " TOPIC_COLUMNS ", " H_SQL_TS("s.created_at") " AS subscribed_at"
              " FROM topic_subscriptions s JOIN topics t ON t.key = s.topic_key"
              " WHERE s.user_id = $1::uuid ORDER BY t.key",
              1, params, out);
}

h_result h_topic_repo_subscribe(PGconn *conn, const char *user_id, const char *key,
                                json_t **out) {
  const char *params[] = {user_id, key};
  h_result r = h_db_exec(conn,
                         "INSERT INTO topic_subscriptions (user_id, topic_key)"
                         " SELECT $1::uuid, key FROM topics WHERE key = $2"
                         " ON CONFLICT (user_id, topic_key) DO NOTHING",
                         2, params, NULL);
  if (r != H_OK) {
    return r;
  }
  return h_db_one(conn,
                  "SELECT " TOPIC_COLUMNS ", " H_SQL_TS("s.created_at") " AS subscribed_at"
                  " FROM topic_subscriptions s JOIN topics t ON t.key = s.topic_key"
                  " WHERE s.user_id = $1::uuid AND s.topic_key = $2",
                  2, params, out);
}

h_result h_topic_repo_unsubscribe(PGconn *conn, const char *user_id, const char *key) {
  const char *params[] = {user_id, key};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn,
                         "DELETE FROM topic_subscriptions WHERE user_id = $1::uuid"
                         " AND topic_key = $2",
                         2, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

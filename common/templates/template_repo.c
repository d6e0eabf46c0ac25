/* template_repo.c - SQL for the templates table. */
#include "templates/template_repo.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "store/db.h"

#define TEMPLATE_COLUMNS                                                                   \
  "id, 'template' AS object, key, name, description, default_locale, channels, locales, " \
  H_SQL_TS("created_at") " AS created_at, " H_SQL_TS("updated_at") " AS updated_at"

h_result h_template_repo_get(PGconn *conn, const char *key, json_t **tpl) {
  const char *params[] = {key};
  return h_db_one(conn, "SELECT " TEMPLATE_COLUMNS " FROM templates WHERE key = $1", 1,
                      params, tpl);
}

h_result h_template_repo_list(PGconn *conn, const struct h_page *page, json_t **data,
                              bool *has_more) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", page->limit + 1);
  const char *params[] = {page->starting_after, limit};
  return h_db_page(conn,
                         "SELECT " TEMPLATE_COLUMNS " FROM templates"
                         " WHERE ($1::uuid IS NULL OR (created_at, id) <"
                         "        (SELECT created_at, id FROM templates WHERE id = $1::uuid))"
                         " ORDER BY templates.created_at DESC, templates.id DESC LIMIT $2::int",
                         2, params, page->limit, data, has_more);
}

/* The parameter list shared by insert and update: key, name, description, locale,
 * channels, locales. The JSON texts are stored in texts[2] (caller frees both). */
static void params_of(const struct h_template_input *in, const char *key, const char *params[6],
                      char *texts[2]) {
  texts[0] = json_dumps(in->channels, JSON_COMPACT);
  texts[1] = in->locales != NULL ? json_dumps(in->locales, JSON_COMPACT) : h_strdup("{}");
  params[0] = key;
  params[1] = in->name;
  params[2] = in->description;
  params[3] = in->default_locale != NULL ? in->default_locale : "en";
  params[4] = texts[0];
  params[5] = texts[1];
}

h_result h_template_repo_insert(PGconn *conn, const struct h_template_input *in, json_t **tpl) {
  const char *params[6];
  char *texts[2];
  params_of(in, in->key, params, texts);
  h_result r = h_db_one(conn,
                            "INSERT INTO templates (key, name, description, default_locale,"
                            " channels, locales) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)"
                            " RETURNING " TEMPLATE_COLUMNS,
                            6, params, tpl);
  free(texts[0]);
  free(texts[1]);
  return r;
}

h_result h_template_repo_update(PGconn *conn, const char *key, const struct h_template_input *in,
                                json_t **tpl) {
  const char *params[6];
  char *texts[2];
  params_of(in, key, params, texts);
  h_result r = h_db_one(conn,
                            "UPDATE templates SET name = $2, description = $3,"
                            " default_locale = $4, channels = $5::jsonb, locales = $6::jsonb,"
                            " updated_at = now() WHERE key = $1 RETURNING " TEMPLATE_COLUMNS,
                            6, params, tpl);
  free(texts[0]);
  free(texts[1]);
  return r;
}

h_result h_template_repo_delete(PGconn *conn, const char *key) {
  const char *params[] = {key};
  PGresult *res = NULL;
  h_result r = h_db_exec(conn, "DELETE FROM templates WHERE key = $1", 1, params, &res);
  if (r == H_OK) {
    r = atoi(PQcmdTuples(res)) == 1 ? H_OK : H_ERR_NOT_FOUND;
    PQclear(res);
  }
  return r;
}

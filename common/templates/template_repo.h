/* template_repo.h - SQL for the templates table. Templates come back in their wire shape
 * ({"id","object":"template","key",...}); json_t ** out-parameters are new references. */
#ifndef HERALD_TEMPLATE_REPO_H
#define HERALD_TEMPLATE_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_template_input {
  const char *key, *name, *description, *default_locale; /* default_locale NULL: "en" */
  const json_t *channels;                                /* borrowed */
  const json_t *locales;                                 /* borrowed, may be NULL */
};

/* H_ERR_NOT_FOUND when no template has key. */
h_result h_template_repo_get(PGconn *conn, const char *key, json_t **tpl);
h_result h_template_repo_list(PGconn *conn, const struct h_page *page, json_t **data,
                              bool *has_more);
/* H_ERR_CONFLICT when key is taken. */
h_result h_template_repo_insert(PGconn *conn, const struct h_template_input *in, json_t **tpl);
/* Replaces everything but the key; H_ERR_NOT_FOUND when no template has key. */
h_result h_template_repo_update(PGconn *conn, const char *key, const struct h_template_input *in,
                                json_t **tpl);
h_result h_template_repo_delete(PGconn *conn, const char *key);

#endif

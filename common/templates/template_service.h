/* template_service.h - notification templates for operators: CRUD with audit rows, and
 * previews. json_t ** out-parameters are new references for the caller. */
#ifndef HERALD_TEMPLATE_SERVICE_H
#define HERALD_TEMPLATE_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "store/idempotency.h"
#include "notifications/notify.h"
#include "templates/template_repo.h"

h_result h_template_list(struct h_app *app, const struct h_page *page, json_t **data,
                         bool *has_more);
h_result h_template_find(struct h_app *app, const char *key, json_t **tpl);
/* H_ERR_CONFLICT when the key is taken. */
h_result h_template_create(struct h_app *app, const struct h_actor *actor,
                           const struct h_template_input *in, const struct h_idem *idem,
                           json_t **tpl);
h_result h_template_replace(struct h_app *app, const struct h_actor *actor, const char *key,
                            const struct h_template_input *in, json_t **tpl);
h_result h_template_remove(struct h_app *app, const struct h_actor *actor, const char *key);

/* Renders template key for locale (NULL: its default) with data (may be NULL):
 * {"object":"template_preview","key","locale","channels":{...}}. H_ERR_UNPROCESSABLE with
 * err filled for a missing variable. */
h_result h_template_preview(struct h_app *app, const char *key, const json_t *data,
                            const char *locale, json_t **preview, struct h_notify_error *err);

#endif
